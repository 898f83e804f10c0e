"""The bot's languages: which one a reader gets, the message catalogs, and writing numbers, money and dates
the way a reader's locale writes them.

English is the source language: every message is written in English in the code and translated through the
gettext catalogs in `locales/` (`python -m commands.i18n.catalogs` extracts and updates them).
"""
