"""Understanding: words in, an intent with slots out.

``catalog`` loads the per-language intent catalogs (data), ``normalize`` folds text (stemming, pinyin),
``matcher`` turns a transcript into a ``result.Understanding``.
"""
