"""An audformat database as a corpus source: `--corpus audformat:<name> --path
DB_ROOT` (audEERING's format, the one `audb` publishes EmoDB in), read through
the `audformat` package.

The emotion is the column whose scheme is `emotion` (or that is named so) in
every filewise or segmented table that has one (segments become utterances
of their file; a file in two such tables is read once); the database's
splits (tables with a `split_id` of type train or test) become the protocol
`data.protocol=db_split`: train on the train splits' utterances, test on the
test splits'. The speaker, a column whose scheme or name is `speaker` in any table of
the same files; the gender, a `gender` column of those tables, or the
`gender` of the speaker's entry in the speaker scheme's labels (a misc table
or a dict). Emotion names map to the canonical ones as for a CSV manifest
(`--map`); rows whose emotion maps to nothing, whose file does not exist or
without a speaker are skipped with the reason.

Tables are read from their CSV or PARQUET files only: a table stored as a
pickle (`db.<table>.pkl`) is refused, since unpickling a data file can run code.
"""

from pathlib import Path

from jaxser.config import ConfigError
from jaxser.data.corpora import external
from jaxser.data.corpora.base import Scan, Utterance

GENDERS = {"female": "f", "f": "f", "male": "m", "m": "m"}


def _load(root: Path):
    try:
        import audformat
    except ImportError:
        raise ConfigError(
            'audformat databases need the audformat package: pip install -e ".[audformat]"'
        ) from None
    if not (root / "db.yaml").is_file():
        raise ConfigError(f"{root} holds no audformat database (no db.yaml)")
    db = audformat.Database.load(str(root), load_data=False)
    for table_id in db.tables:
        if (root / f"db.{table_id}.pkl").exists():
            raise ConfigError(
                f"{root / f'db.{table_id}.pkl'}: a pickled table; jaxser reads tables from CSV "
                "or PARQUET only (unpickling a data file can run code): remove the .pkl file"
            )
        db[table_id].load(str(root / f"db.{table_id}"))
    return db


def _columns(db, name: str) -> list[tuple[str, str]]:
    """(table id, column id) of each table's first column whose scheme or id is `name`."""
    found = []
    for table_id, table in db.tables.items():
        for column_id, column in table.columns.items():
            if column.scheme_id == name or column_id == name:
                found.append((table_id, column_id))
                break
    return found


def _by_file(db, name: str) -> dict:
    """file -> value of the `name` column of every table that has one (the first
    value per file)."""
    out = {}
    for table_id, column_id in _columns(db, name):
        series = db[table_id][column_id].get()
        files = series.index.get_level_values("file")
        for f, v in zip(files, series.to_numpy(), strict=True):
            if v is not None and v == v:  # not None, not NaN
                out.setdefault(f, str(v))
    return out


def _speaker_genders(db) -> dict[str, str]:
    """speaker -> gender, from the speaker scheme's labels (a misc table or a dict)."""
    scheme = db.schemes.get("speaker")
    labels = getattr(scheme, "labels", None)
    if isinstance(labels, str) and labels in db.misc_tables:
        table = db.misc_tables[labels].get()
        if "gender" in table.columns:
            return {str(k): str(v) for k, v in table["gender"].items()}
    if isinstance(labels, dict):
        return {str(k): str(v.get("gender", "")) for k, v in labels.items() if isinstance(v, dict)}
    return {}


def parse(root: Path, corpus: str, user_map: dict) -> Scan:
    return read(root, corpus, user_map)[0]


def read(root: Path, corpus: str, user_map: dict) -> tuple[Scan, dict[str, list[str]]]:
    """(the utterances, {"train": utt ids, "test": utt ids} of the database's splits)."""
    db = _load(root)
    tables = _columns(db, "emotion")
    if not tables:
        raise ConfigError(
            f"{root}: no table column with the scheme or name 'emotion'; tables: {list(db.tables)}"
        )
    speakers, genders = _by_file(db, "speaker"), _by_file(db, "gender")
    speaker_gender = _speaker_genders(db)
    scan, seen, splits = Scan(), set(), {"train": [], "test": []}
    for table_id, column_id in tables:
        split = db[table_id].split_id
        kind = db.splits[split].type if split in db.splits else ""
        for utt in _utterances(db, root, corpus, user_map, table_id, column_id, scan, seen,
                               speakers, genders, speaker_gender):  # fmt: skip
            if kind in splits:
                splits[kind].append(utt.utt_id)
    return scan, splits


def _utterances(db, root, corpus, user_map, table_id, column_id, scan, seen, speakers,
                genders, speaker_gender):  # fmt: skip
    """Adds the rows of one emotion table to `scan`, yielding the utterances kept."""
    emotion = db[table_id][column_id].get()
    found = (table_id, column_id)
    index = emotion.index
    segmented = "start" in index.names
    for value, key in zip(emotion.to_numpy(), index, strict=True):
        file = key[0] if segmented else key
        path = root / file
        start = end = 0.0
        if segmented:
            start = key[1].total_seconds()
            end = key[2].total_seconds() if key[2] == key[2] else 0.0  # NaT: to the end
        utt_id = Path(file).with_suffix("").as_posix().replace("/", "_")
        utt_id += f"_{start:g}-{end:g}" if segmented else ""
        if utt_id in seen:
            scan.skip(path, f"listed again in table {found[0]!r} (the first is kept)")
            continue
        seen.add(utt_id)
        if not path.is_file():
            scan.skip(path, "no such file")
            continue
        name = "" if value is None or value != value else str(value)
        canonical = external.canonical(name, user_map)
        if canonical is None:
            scan.skip(path, f"unknown emotion {name!r} (map it: --map {name or 'NAME'}=<emotion>)")
            continue
        speaker = speakers.get(file, "")
        if not speaker:
            scan.skip(path, "no speaker")
            continue
        gender = genders.get(file) or speaker_gender.get(speaker, "")
        utt = Utterance(
            str(path), corpus, utt_id, canonical, speaker,
            GENDERS.get(gender.lower(), "u"), "", start=start, end=end,
        )  # fmt: skip
        scan.utterances.append(utt)
        yield utt
