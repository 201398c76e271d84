"""Sentence pools of the synthetic corpora (original sentences, one pool per language)."""

GERMAN = {  # EmoDB-style text ids
    "a01": "Der Brief liegt auf dem Tisch neben der Lampe.",
    "a02": "Morgen fahren wir mit dem Zug nach Hamburg.",
    "a04": "Das Fenster im Flur ist seit gestern offen.",
    "a05": "Sie hat die Tasche im Auto vergessen.",
    "a07": "Um sieben Uhr beginnt die Versammlung im Rathaus.",
    "b01": "Er hat das Buch gestern in die Bibliothek gebracht.",
    "b02": "Die Kinder spielen am Nachmittag im Garten.",
    "b03": "Wir haben den Schlüssel unter der Matte gefunden.",
    "b09": "Das Essen steht schon seit einer Stunde auf dem Herd.",
    "b10": "Heute Abend kommt der Nachbar zu Besuch.",
}

_ZH_SUBJECTS = [
    "我们",
    "他的朋友",
    "老师",
    "这个孩子",
    "我的邻居",
    "她的妈妈",
    "公司的经理",
    "那位医生",
    "我的同学",
    "他们",
]
_ZH_PREDICATES = [
    "明天早上去北京开会",
    "把书放在桌子上了",
    "下午在公园里散步",
    "已经吃过晚饭了",
    "每天坐地铁上班",
    "昨天买了一辆新车",
    "正在厨房里做饭",
    "周末要去看电影",
    "把门关上了",
    "刚刚打电话回家",
]
# CASIA text ids 201-250: 50 distinct subject + predicate sentences.
MANDARIN = {
    str(201 + k): _ZH_SUBJECTS[k % 10] + _ZH_PREDICATES[(k // 10 * 3 + k) % 10] for k in range(50)
}

ENGLISH = {  # eNTERFACE: sentence 1-5
    "1": "The meeting starts at nine tomorrow morning.",
    "2": "I left my keys on the kitchen table.",
    "3": "We have to take the train to the city.",
    "4": "She painted the old fence last weekend.",
    "5": "There is a letter for you on the desk.",
}

ITALIAN = {  # EMOVO-style sentence ids
    "b1": "Il treno per Roma parte domani mattina.",
    "b2": "Ho lasciato le chiavi sul tavolo della cucina.",
    "b3": "La riunione comincia alle nove in punto.",
    "l1": "Mia sorella ha comprato una bicicletta nuova.",
    "l2": "Il negozio all'angolo chiude alle otto.",
    "l3": "Abbiamo mangiato la pizza in giardino.",
    "l4": "Il professore ha spiegato la lezione due volte.",
    "n1": "Domenica andiamo al mare con gli amici.",
    "n2": "La finestra della camera è rimasta aperta.",
    "n3": "Il cane dorme sotto la sedia del nonno.",
    "n4": "Questa sera piove su tutta la città.",
    "n5": "Ho scritto una lettera a mio cugino.",
    "d1": "Il pacco è arrivato ieri pomeriggio.",
    "d2": "Le chiavi della macchina sono nel cassetto.",
}
