"""KMIP XML and JSON encodings of Item trees (digest section 3.5; ENC §4 JSON, §6 XML).

``agent.encodings.xml`` and ``agent.encodings.json`` each offer ``loads`` / ``dumps``;
placeholders of the OASIS test-case files are kept as :class:`Symbol` values and bound with
:func:`bind` / :func:`bind_defaults`.
"""

from agent.encodings.symbols import Symbol, bind, bind_defaults, iter_symbols

__all__ = ["Symbol", "bind", "bind_defaults", "iter_symbols"]
