from django.core.management.commands import makemessages


class Command(makemessages.Command):
    """Django's makemessages without fuzzy matching: a new string starts untranslated instead of
    borrowing the translation of a similar one, which reads as done while it is wrong."""

    msgmerge_options = makemessages.Command.msgmerge_options + ["--no-fuzzy-matching"]
