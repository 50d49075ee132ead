"""Pure parsers for what alerting tools send: payload in, plain records out.

Each parser raises ``PayloadInvalid`` with per-field messages when the payload cannot
be used. Unknown extra fields are never an error; they stay in the raw payload.
"""
