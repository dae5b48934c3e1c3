"""The archive search's query set (tests/test_search_uk.py, bench/search_methods.py): five public
statements made of the demo texts (statements/demo.py), and queries, each with the statements it
must find, no more and no fewer. The Ukrainian words were checked by hand against the texts: a query
in dictionary form meets only inflected forms there (DICTIONARY_FORM), an inflected query meets the
dictionary form there (INFLECTED)."""

from statements import demo

# key: (original, translation or None)
STATEMENTS = {
    "kazan": (("en", demo.KAZAN_EN_2), ("uk", demo.KAZAN_UK)),
    "arrest": (("en", demo.ARREST_EN_1), ("uk", demo.ARREST_UK_1)),
    "children": (("uk", demo.CHILDREN_UK), None),
    "mongolia": (("en", demo.MONGOLIA_EN), None),
    "early": (("en", demo.KAZAN_EARLY_EN), None),
}

UK3 = {"kazan", "arrest", "children"}  # every statement with Ukrainian text

# A query in dictionary form; the texts have only other forms of the word (in brackets).
DICTIONARY_FORM = [
    ("депортація", UK3),              # депортації, депортацію
    ("Казань", {"kazan"}),            # Казані
    ("Гутерреш", {"kazan"}),          # Гутерреша (and Гутерреш)
    ("ордер", UK3),                   # ордери (and ордер)
    ("дитина", UK3),                  # дітей, дитини
    ("Росія", UK3),                   # Росії
    ("Путін", UK3),                   # Путіна, Путіним
    ("Монголія", {"arrest"}),         # Монголії, Монголію
    ("саміт", {"kazan"}),             # саміті (and Саміт)
    ("держава", UK3),                 # держави, державу, держав
    ("учасниця", UK3),                # учасниці, учасниць, держави-учасниці
    ("статут", UK3),                  # статуту
    ("територія", UK3),               # території, територію
    ("секретар", {"kazan"}),          # секретаря (and секретар)
    ("коаліція", {"kazan", "children"}),  # коаліції (and Коаліція)
    ("справа", {"kazan", "arrest"}),  # справ
    ("переміщення", UK3),             # переміщенні
    ("підозра", {"kazan", "arrest"}),  # підозрою
    ("прокурор", {"kazan"}),          # Прокурора
    ("Швейцарія", {"kazan"}),         # Швейцарії
    ("стаття", {"kazan"}),            # статті
    ("угода", {"kazan"}),             # Угоди
    ("асамблея", {"kazan"}),          # Асамблею
    ("Україна", UK3),                 # України
    ("окупований", UK3),              # окупованих
    ("незаконний", UK3),              # незаконній
    ("міжнародний", UK3),             # Міжнародного (and Міжнародний)
    ("Львова-Бєлова", {"kazan", "children"}),  # Львової-Бєлової
    ("Марія", {"kazan", "children"}),  # Марії
    ("лідер", {"kazan"}),             # лідером
    ("квітень", {"kazan"}),           # квітня
    ("жовтень", {"kazan"}),           # жовтня
    ("вересень", {"arrest"}),         # вересня
    ("червень", {"kazan"}),           # червні
    ("Римський", UK3),                # Римського
    ("очільник", {"kazan"}),          # очільника
    ("закликати", UK3),               # закликаємо
    ("депортація Казань", {"kazan"}),  # every word must be found
    ('"міжнародний кримінальний суд"', UK3),  # a phrase: Міжнародного кримінального суду
]

# An inflected query; the texts have the dictionary form (and maybe others).
INFLECTED = [
    ("зустрічі", {"kazan"}),          # зустріч
    ("Гутеррешем", {"kazan"}),        # Гутерреш
    ("судом", UK3),                   # суд
    ("ордерів", UK3),                 # ордер
    ("арешту", UK3),                  # арешт
    ("самітів", {"kazan"}),           # Саміт
    ("візитом", {"kazan", "arrest"}),  # візит
    ("міністерству", {"kazan", "arrest"}),  # Міністерство
    ("прикладом", {"arrest"}),        # приклад
    ("відповідальності", {"children"}),  # відповідальність
    ("розслідуванням", {"kazan"}),    # розслідування
    ("авторитету", {"kazan"}),        # авторитет
    ("коаліцією", {"kazan", "children"}),  # Коаліція
    ('"генерального секретаря"', {"kazan"}),  # Генеральний секретар
]

# English: stemmed, as PostgreSQL's "english" configuration stems.
ENGLISH = [
    ("deport", {"kazan", "arrest"}),                  # deportation
    ("warrants", {"kazan", "arrest", "mongolia"}),    # warrant
    ("arrested", {"kazan", "arrest", "mongolia"}),    # arrest
    ("meetings", {"kazan", "early"}),                 # meeting, meet
    ("summits", {"kazan", "early"}),                  # summit
    ("Mongolia's", {"arrest", "mongolia"}),           # Mongolia
    ("territories", {"kazan", "arrest"}),             # territory
    ("visits", {"kazan", "arrest", "mongolia"}),      # visit
    ("Guterres", {"kazan", "early"}),
    ("prosecutors", {"kazan"}),                       # Prosecutor
    ("undermining", {"kazan"}),                       # undermines
    ("urged", {"early"}),                             # urge
    ("regrets", {"mongolia"}),                        # regret
]

ALL = [("uk-dictionary", q, found) for q, found in DICTIONARY_FORM] + [
    ("uk-inflected", q, found) for q, found in INFLECTED] + [("en", q, found) for q, found in ENGLISH]
