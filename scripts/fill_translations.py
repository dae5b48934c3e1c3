"""Fill a .po file from JSON files of {msgid: msgstr, or [three plural forms]}.

Usage: fill_translations.py locale/uk/LC_MESSAGES/django.po new-strings.json [...]
Existing translations are kept; the entries still untranslated are listed at the end, and the
exit status is 1 if there are any.
"""
import json, sys, polib
po = polib.pofile(sys.argv[1])
tr = {}
for f in sys.argv[2:]:
    tr.update(json.load(open(f, encoding="utf-8")))
missing = []
for e in po:
    if e.msgid in tr:
        v = tr[e.msgid]
        if e.msgid_plural:
            e.msgstr_plural = {i: s for i, s in enumerate(v)}
        else:
            e.msgstr = v
        if "fuzzy" in e.flags: e.flags.remove("fuzzy")
    elif "fuzzy" in e.flags or not (any(e.msgstr_plural.values()) if e.msgid_plural else e.msgstr):
        # A fuzzy entry is a guess from a similar string and is not used: it counts as missing.
        missing.append(e.msgid)
po.metadata["Plural-Forms"] = "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
po.metadata["Language"] = "uk"
po.metadata_is_fuzzy = False  # a fuzzy header is dropped by msgfmt, and the plural forms with it
po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
po.save()
print("untranslated:", len(missing))
for m in missing:
    print(repr(m))
sys.exit(1 if missing else 0)
