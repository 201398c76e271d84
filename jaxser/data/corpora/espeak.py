"""eSpeak NG through ctypes, from PyPI's `espeakng-loader` (library + voice data).

Synchronous mode: `espeak_Synth` returns once the callback has received every
sample, so one call renders one utterance. The library keeps global state, so
one `Espeak` per process; `engine()` returns it.

eSpeak NG's output depends on what the process rendered before (state kept across
calls, even across terminate/initialise), so reproducible renders must fix the
sequence of calls each process makes: see `synthetic.render`. Voice variants with
`breath` or `klatt` settings are not reproducible at all (unseeded noise).
"""

import ctypes
import functools

import espeakng_loader
import numpy as np

_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
# espeak_PARAMETER
RATE, VOLUME, PITCH, RANGE = 1, 2, 3, 4
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class Espeak:
    """One eSpeak NG engine: `synth(text, voice, rate, pitch, range_, volume)` -> int16 wave."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, data, 0)
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed with data at {data!r}")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # keep a reference: C holds a pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib

    def _collect(self, wav, n, _events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def synth(
        self, text: str, voice: str, rate: int, pitch: int, range_: int, volume: int
    ) -> np.ndarray:
        """Renders `text`; rate in words/min (80-450), pitch/range 0-100, volume 0-200."""
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"eSpeak NG has no voice {voice!r}")
        for param, value, lo, hi in (
            (RATE, rate, 80, 450),
            (PITCH, pitch, 0, 100),
            (RANGE, range_, 0, 100),
            (VOLUME, volume, 0, 200),
        ):
            self._lib.espeak_SetParameter(param, int(np.clip(value, lo, hi)), 0)
        self._chunks = []
        data = text.encode()
        err = self._lib.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        if err != 0 or not self._chunks:
            raise RuntimeError(f"espeak_Synth failed ({err}) on {text!r} with voice {voice!r}")
        return np.concatenate(self._chunks)


@functools.cache
def engine() -> Espeak:
    return Espeak()
