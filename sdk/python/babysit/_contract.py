"""The wire contract's limits, as the server enforces them (lib/contract/limits.ts, docs/contract.json).

The SDK is installed without the repository, so it carries its own copy of the numbers;
tests/sdk/python/test_contract.py reads docs/contract.json and fails when a number here differs, and
checks that the SDK's own checks (keys, event types, names, batches, config) follow them.

Strings are measured in Unicode code points (what ``len()`` counts), must be well-formed (no lone
surrogates: a Python ``str`` can hold one, JSON escapes it as ``\\ud800`` and the server refuses it),
and keys, event types, project and run names must not contain U+0000-U+001F or U+007F.
"""

from __future__ import annotations

import re
from typing import Optional

# Names as in docs/contract.json "limits", values in the unit it gives for each.
LIMITS = {
    "keyMaxLength": 200,  # code points
    "eventTypeMaxLength": 64,  # code points
    "projectMaxLength": 100,  # code points, after trimming
    "runNameMaxLength": 200,  # code points, after trimming
    "runIdMaxLength": 64,  # ASCII characters A-Z a-z 0-9 _ -
    "rowsPerBatch": 10_000,
    "histogramsPerBatch": 1_000,
    "eventsPerBatch": 1_000,
    "histogramBins": 1_000,
    "bodyBytes": 8 * 1024 * 1024,
    "jsonDepth": 64,  # levels of nesting of a whole request body
    "configBytes": 1024 * 1024,  # bytes of UTF-8 JSON
    "configDepth": 32,  # levels of nesting, the config object itself is level 1
    "stepMax": 2**53 - 1,
    "timeMax": 10_000_000_000,  # Unix seconds
    "epochAbsMax": 1_000_000_000_000,
    "imageSideMax": 8192,  # pixels
    "imageBytesMax": 4 * 1024 * 1024,  # bytes of decoded PNG
    "urlBytesMax": 8 * 1024,
    "keysPerRun": 10_000,  # distinct metric keys of one run (the epoch is one)
    "histogramKeysPerRun": 2_000,  # distinct histogram keys of one run
    "imageKeysPerRun": 1_000,  # distinct image keys of one run
    "statsFeaturesMax": 100_000,  # entries of an input_stats event's mean and std
    "statsSplitMaxLength": 64,  # code points: the split an input_stats / output_stats event names
    "labelStatsClasses": 100_000,  # entries of a label_stats event's counts
    "labelStatsSplitMaxLength": 64,  # code points, a label_stats event's split name
    "tagMaxLength": 64,  # code points, a run's tag after trimming
    "tagsPerRun": 32,
    "notesMaxLength": 10_000,  # code points, a run's notes
    # sweeps (babysit.sweep): checked by the SDK before a sweep starts
    "sweepNameMaxLength": 200,  # code points, after trimming
    "sweepParamsMax": 100,  # parameters of one search space
    "sweepParamNameMaxLength": 200,  # code points
    "sweepChoiceValuesMax": 1_000,  # values of one choice parameter
    "sweepLogUniformMin": 1e-300,  # smallest low of a log_uniform parameter
    "sweepLogUniformMax": 1e300,  # largest high of a log_uniform parameter
    # log import (python -m babysit import): a larger file is skipped and said so; an event-file
    # directory under a run larger than the peek is a run of its own, not its hparams sub-run
    "importFileBytes": 64 * 1024 * 1024,  # bytes
    "importHparamsPeekBytes": 1024 * 1024,  # bytes
}

KEY_MAX_LENGTH = LIMITS["keyMaxLength"]
EVENT_TYPE_MAX_LENGTH = LIMITS["eventTypeMaxLength"]
PROJECT_MAX_LENGTH = LIMITS["projectMaxLength"]
RUN_NAME_MAX_LENGTH = LIMITS["runNameMaxLength"]
ROWS_PER_BATCH = LIMITS["rowsPerBatch"]
HISTOGRAMS_PER_BATCH = LIMITS["histogramsPerBatch"]
EVENTS_PER_BATCH = LIMITS["eventsPerBatch"]
HISTOGRAM_BINS = LIMITS["histogramBins"]
BODY_BYTES = LIMITS["bodyBytes"]
JSON_DEPTH = LIMITS["jsonDepth"]
CONFIG_BYTES = LIMITS["configBytes"]
CONFIG_DEPTH = LIMITS["configDepth"]
STEP_MAX = LIMITS["stepMax"]
TIME_MAX = LIMITS["timeMax"]
EPOCH_ABS_MAX = LIMITS["epochAbsMax"]
IMAGE_SIDE_MAX = LIMITS["imageSideMax"]
IMAGE_BYTES_MAX = LIMITS["imageBytesMax"]
KEYS_PER_RUN = LIMITS["keysPerRun"]
HISTOGRAM_KEYS_PER_RUN = LIMITS["histogramKeysPerRun"]
IMAGE_KEYS_PER_RUN = LIMITS["imageKeysPerRun"]

RUN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,%d}$" % LIMITS["runIdMaxLength"]
RUN_ID_RE = re.compile(RUN_ID_PATTERN)
NON_FINITE_STRINGS = ("NaN", "Infinity", "-Infinity")

# U+0000-U+001F and U+007F; C1 controls (U+0080-U+009F) are allowed, as on the server.
_FORBIDDEN_RE = re.compile("[\u0000-\u001f\u007f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


# What JavaScript's String.prototype.trim() removes, which the server applies to project and run
# names (zod's .trim()): Python's str.strip() differs (it also strips U+001C-U+001F and U+0085, and
# keeps U+FEFF), so a name would be checked or stored differently by the SDK and the server.
JS_TRIM_CHARACTERS = ("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                      "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")


def trim(s: str) -> str:
    """`s` without the leading and trailing characters the server's trim() removes."""
    return s.strip(JS_TRIM_CHARACTERS)


def is_well_formed(s: str) -> bool:
    """False when `s` holds a surrogate code point, which UTF-8 cannot carry (``s.encode()`` raises)."""
    return _SURROGATE_RE.search(s) is None


def well_formed(s: str) -> str:
    """`s` with every surrogate code point replaced by U+FFFD (for free-form text: config, event data)."""
    return _SURROGATE_RE.sub("\ufffd", s)


def has_forbidden_character(s: str) -> bool:
    return _FORBIDDEN_RE.search(s) is not None


def name_problem(s: object, max_length: int, what: str) -> Optional[str]:
    """Why `s` cannot be a key / event type / project / run name, or None. Same order as the server's
    nameProblem(), so the SDK and the server name the same problem first."""
    if not isinstance(s, str):
        return "%s must be strings, got a %s" % (what, type(s).__name__)
    if not s:
        return "%s must not be empty" % what
    if not is_well_formed(s):
        return "%s must be well-formed Unicode (no lone surrogates)" % what
    if has_forbidden_character(s):
        return "%s must not contain control characters" % what
    if len(s) > max_length:
        return "%s must be at most %d code points" % (what, max_length)
    return None
