"""Demo statements of the Ukraine 5AM coalition, one in every state, written in the project's own
words from the public facts in shared/demo/FACTS.md. Made through the services, so revisions,
comments and the audit log are what real use would leave. Safe to run again: a statement whose
address already exists is left as it is.

`seeders` is what `manage.py seed_demo` calls, each with the command's stdout.
"""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from coalition.demo import COALITION, DEMO_PASSWORD, PARTNER, demo_organisation
from coalition.models import Coalition, Organisation, OrganisationRole, User

from . import services
from .services import cosigning, publishing
from .models import Publication, Statement
from .services import Draft

KAZAN_SLUG = "un-secretary-general-kazan-2024"


def _prose(source: str) -> str:
    """The body as an editor types it: one line per paragraph or list item (the source below is
    wrapped only to be readable here)."""
    paragraphs = []
    for block in source.strip().split("\n\n"):
        lines: list[str] = []
        for line in block.split("\n"):
            if lines and not line.startswith("- "):
                lines[-1] += " " + line.strip()
            else:
                lines.append(line.strip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


KAZAN_EN_1 = Draft(
    title="The UN Secretary-General's meeting in Kazan with a leader wanted by the ICC",
    summary=(
        "Member organisations of the Ukraine 5AM Coalition and the Center for Civil Liberties object to "
        "António Guterres meeting Vladimir Putin at the BRICS summit in Kazan."
    ),
    body=_prose("""\
From 22 to 24 October 2024 the Secretary-General of the United Nations, António Guterres, took part in
the BRICS summit in Kazan, Russia, and met Vladimir Putin there. It was his first visit to Russia since
April 2022.

Since 17 March 2023 Vladimir Putin has been wanted by the International Criminal Court. The Court issued
warrants for his arrest and for the arrest of Maria Lvova-Belova, Russia's commissioner for children's
rights, on suspicion of the unlawful deportation and transfer of children from occupied areas of Ukraine
to Russia. The 123 states parties to the Rome Statute are bound to arrest him on their territory.

We believe that a meeting between the head of the United Nations and a person wanted by the Court
weakens the authority of the ICC.

We call on:

- the Assembly of States Parties to the Rome Statute to respond to this visit;
- the bodies of the United Nations to respond to this visit.
"""),
)

KAZAN_EN_2 = Draft(
    title="The UN Secretary-General's meeting in Kazan with a leader wanted by the ICC",
    summary=(
        "Member organisations of the Ukraine 5AM Coalition and the Center for Civil Liberties condemn "
        "António Guterres's meeting with Vladimir Putin at the BRICS summit in Kazan."
    ),
    body=_prose("""\
From 22 to 24 October 2024 the Secretary-General of the United Nations, António Guterres, took part in
the BRICS summit in Kazan, Russia, and met Vladimir Putin there. It was his first visit to Russia since
April 2022. Ukraine's Ministry of Foreign Affairs criticised the visit, recalling that the
Secretary-General had declined to attend the Peace Summit in Switzerland in June 2024.

Since 17 March 2023 Vladimir Putin has been wanted by the International Criminal Court. The Court issued
warrants for his arrest and for the arrest of Maria Lvova-Belova, Russia's commissioner for children's
rights, on suspicion of the unlawful deportation and transfer of children from occupied areas of Ukraine
to Russia. The 123 states parties to the Rome Statute are bound to arrest him on their territory.

We are convinced that a meeting between the head of the United Nations and a person wanted by the Court
undermines the authority of the ICC.

We call on:

- the Assembly of States Parties to the Rome Statute to react to this visit;
- the bodies of the United Nations to react to this visit;
- the Prosecutor of the ICC, under Article 18 of the Relationship Agreement between the United Nations
  and the International Criminal Court, to request any information from this meeting that may be useful
  to the investigation.
"""),
    note="Stronger wording; adds the foreign ministry's reaction and the request to the ICC Prosecutor.",
)

KAZAN_UK = Draft(
    title="Зустріч Генерального секретаря ООН у Казані з лідером, якого розшукує МКС",
    summary=(
        "Організації-учасниці коаліції «Україна. П’ята ранку» та Центр громадянських свобод засуджують "
        "зустріч Антоніу Гутерреша з Володимиром Путіним на саміті БРІКС у Казані."
    ),
    body=_prose("""\
22–24 жовтня 2024 року Генеральний секретар ООН Антоніу Гутерреш узяв участь у саміті БРІКС у Казані
(Росія) і зустрівся там із Володимиром Путіним. Це його перший візит до Росії з квітня 2022 року.
Міністерство закордонних справ України розкритикувало цей візит і нагадало, що в червні 2024 року
Генеральний секретар відмовився приїхати на Саміт миру у Швейцарії.

З 17 березня 2023 року Володимира Путіна розшукує Міжнародний кримінальний суд. Суд видав ордери на
арешт його та уповноваженої з прав дитини в Росії Марії Львової-Бєлової за підозрою в незаконній
депортації та переміщенні дітей з окупованих територій України до Росії. 123 держави — учасниці
Римського статуту зобов’язані заарештувати його на своїй території.

Ми переконані, що зустріч очільника ООН з особою, яку розшукує Суд, підриває авторитет МКС.

Ми закликаємо:

- Асамблею держав — учасниць Римського статуту відреагувати на цей візит;
- органи ООН відреагувати на цей візит;
- Прокурора МКС, відповідно до статті 18 Угоди про взаємовідносини між ООН та МКС, запросити будь-яку
  інформацію з цієї зустрічі, яка може бути корисною для розслідування.
"""),
    note="Переклад редакції 2.",
)

ARREST_EN_1 = Draft(
    title="States parties to the Rome Statute must arrest Vladimir Putin on their territory",
    summary="A warrant of the International Criminal Court binds every state party; Mongolia's example must not be repeated.",
    body=_prose("""\
On 17 March 2023 the International Criminal Court issued a warrant for the arrest of Vladimir Putin on
suspicion of the unlawful deportation and transfer of children from occupied areas of Ukraine to Russia.
Since then the 123 states parties to the Rome Statute have been bound to arrest him if he enters their
territory.

On 3 September 2024 he made a state visit to Mongolia, a state party, and was not arrested. Ukraine's
Ministry of Foreign Affairs had asked Mongolia to execute the warrant.

We call on every state party to arrest him if he comes to its territory.
"""),
)

ARREST_EN_2 = Draft(
    title="States parties to the Rome Statute must arrest Vladimir Putin on their territory",
    summary="A warrant of the International Criminal Court binds every state party; Mongolia's example must not be repeated.",
    body=_prose("""\
On 17 March 2023 the International Criminal Court issued a warrant for the arrest of Vladimir Putin on
suspicion of the unlawful deportation and transfer of children from occupied areas of Ukraine to Russia.
Since then the 123 states parties to the Rome Statute have been bound to arrest him if he enters their
territory.

On 3 September 2024 he made a state visit to Mongolia, a state party, the first visit of a Russian leader
to a member state of the Court since the warrant, and was not arrested. Ukraine's Ministry of Foreign
Affairs had asked Mongolia to execute the warrant; Amnesty International Mongolia had warned that
Mongolia would become an accomplice to impunity.

We call on every state party to arrest him if he comes to its territory, and not to receive him as a
guest.
"""),
    note="Adds the Amnesty International Mongolia warning.",
)

ARREST_UK_1 = Draft(
    title="Держави — учасниці Римського статуту мають заарештувати Володимира Путіна на своїй території",
    summary="Ордер Міжнародного кримінального суду зобов’язує кожну державу-учасницю; приклад Монголії не має повторитися.",
    body=_prose("""\
17 березня 2023 року Міжнародний кримінальний суд видав ордер на арешт Володимира Путіна за підозрою в
незаконній депортації та переміщенні дітей з окупованих територій України до Росії. Відтоді 123 держави —
учасниці Римського статуту зобов’язані заарештувати його, якщо він з’явиться на їхній території.

3 вересня 2024 року він здійснив державний візит до Монголії, держави-учасниці, і не був заарештований.
Міністерство закордонних справ України просило Монголію виконати ордер.

Ми закликаємо кожну державу-учасницю заарештувати його, якщо він прибуде на її територію.
"""),
)

ARREST_UK_2 = Draft(
    title="Держави — учасниці Римського статуту мають заарештувати Володимира Путіна на своїй території",
    summary="Ордер Міжнародного кримінального суду зобов’язує кожну державу-учасницю; приклад Монголії не має повторитися.",
    body=_prose("""\
17 березня 2023 року Міжнародний кримінальний суд видав ордер на арешт Володимира Путіна за підозрою в
незаконній депортації та переміщенні дітей з окупованих територій України до Росії. Відтоді 123 держави —
учасниці Римського статуту зобов’язані заарештувати його, якщо він з’явиться на їхній території.

3 вересня 2024 року він здійснив державний візит до Монголії, держави-учасниці, — перший візит російського
лідера до держави — члена Суду після видачі ордера, — і не був заарештований. Міністерство закордонних
справ України просило Монголію виконати ордер; Amnesty International Mongolia попереджала, що Монголія
стане співучасницею безкарності.

Ми закликаємо кожну державу-учасницю заарештувати його, якщо він прибуде на її територію, і не приймати
його як гостя.
"""),
    note="Переклад редакції 2.",
)

CHILDREN_UK = Draft(
    title="Суд чекає: відповідальність за депортацію українських дітей",
    summary="Коаліція нагадує про ордери МКС на арешт Володимира Путіна та Марії Львової-Бєлової.",
    body=_prose("""\
17 березня 2023 року Міжнародний кримінальний суд видав ордери на арешт Володимира Путіна та
уповноваженої з прав дитини в Росії Марії Львової-Бєлової. Їх підозрюють у незаконній депортації та
переміщенні дітей з окупованих територій України до Росії.

Ми закликаємо держави — учасниці Римського статуту виконати ці ордери.
"""),
)

MONGOLIA_EN = Draft(
    title="Mongolia failed its duty to the International Criminal Court",
    summary="On 3 September 2024 Mongolia received Vladimir Putin on a state visit and did not arrest him.",
    body=_prose("""\
On 3 September 2024 Vladimir Putin made a state visit to Mongolia. It was the first visit of a Russian
leader to a state party to the Rome Statute since the International Criminal Court issued a warrant for
his arrest on 17 March 2023.

Mongolia did not arrest him, although Ukraine's Ministry of Foreign Affairs had asked it to execute the
warrant and Amnesty International Mongolia had warned that it would become an accomplice to impunity.

We regret Mongolia's decision and call on the Assembly of States Parties to respond to it.
"""),
)

KAZAN_EARLY_EN = Draft(
    title="The Secretary-General should not meet Vladimir Putin in Kazan",
    summary="A first reaction to the Secretary-General's attendance at the BRICS summit in Kazan.",
    body=_prose("""\
The Secretary-General of the United Nations, António Guterres, is attending the BRICS summit in Kazan,
Russia, from 22 to 24 October 2024. Vladimir Putin has been wanted by the International Criminal Court
since 17 March 2023.

We urge the Secretary-General not to meet a person wanted by the Court.
"""),
)


def _users() -> dict[str, User]:
    return {name: User.objects.get(email=f"{name}@example.org") for name in ("coordinator", "signer", "drafter")}


# Staff of other organisations who sign for them in the demo (password as for every demo user).
DEMO_SIGNERS = [
    ("ulag@example.org", "Mariia Tkachenko", "uk", "Ukrainian Legal Advisory Group"),
    ("reckoning@example.org", "Daniel Brooks", "en", "The Reckoning Project"),
    ("crimea-hrg@example.org", "Olha Savchuk", "uk", "Crimean Human Rights Group"),
    ("uhhru@example.org", "Taras Lysenko", "uk", "Ukrainian Helsinki Human Rights Union"),
    ("ccl@example.org", "Natalia Ivanenko", "uk", PARTNER["name"]),
]
# People who sign the open statement as individuals: (name, affiliation, email, confirmed?).
DEMO_INDIVIDUALS = [
    ("Halyna Moroz", "Lawyer, Kharkiv", "halyna.moroz@example.org", True),
    ("Jonas Berg", "Researcher in international criminal law", "jonas.berg@example.org", True),
    ("Ostap Kravets", "", "ostap.kravets@example.org", True),
    ("Serhii Bondarenko", "Journalist", "serhii.bondarenko@example.org", False),
]


def seed_signers() -> dict[str, User]:
    """The extra demo signers, by the name of the organisation each signs for (the partner's too:
    the demo coalition gave each of them signing authority for its statements)."""
    coalition = Coalition.objects.get(slug=COALITION["slug"], demo=True)
    signers = {}
    for email, name, language, organisation_name in DEMO_SIGNERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email, name=name, language=language)
            user.set_password(DEMO_PASSWORD)
            user.save()
        EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        organisation = demo_organisation(organisation_name)  # never a real one of that name
        OrganisationRole.objects.update_or_create(user=user, organisation=organisation, coalition=coalition,
                                                  defaults={"can_sign": True})
        signers[organisation_name] = user
    return signers


def _sign(statement, user, *organisation_names):
    statement.refresh_from_db()
    for name in organisation_names:
        cosigning.sign_for_organisation(statement, by=user, organisation=Organisation.objects.get(name=name),
                                        sha256=statement.signed_revision.sha256)


def _individuals(statement):
    statement.refresh_from_db()
    for name, affiliation, email, confirmed in DEMO_INDIVIDUALS:
        person = cosigning.Individual(name=name, email=email, affiliation=affiliation)
        token = cosigning.sign_as_individual(statement, person=person, ip="seed-demo")
        if confirmed and token:
            cosigning.confirm_individual(statement, token=token, sha256=statement.signed_revision.sha256)


def _published_kazan(coalition, u):
    statement = services.create_draft(coalition, by=u["drafter"], draft=KAZAN_EN_1, language="en", slug=KAZAN_SLUG)
    first = statement.current_revision
    services.add_comment(statement, by=u["signer"], revision=first,
                         body="Could we also ask the ICC Prosecutor to request what was said at the meeting? "
                              "Article 18 of the Relationship Agreement allows it.")
    services.add_comment(statement, by=u["coordinator"], revision=first,
                         body="“Weakens” is too mild for what happened. I suggest “undermines”.")
    second = services.save_revision(statement, by=u["coordinator"], based_on=first, draft=KAZAN_EN_2)
    for comment in statement.comments.all():
        services.resolve_comment(comment, by=u["coordinator"])
    services.add_translation(statement, by=u["signer"], language="uk", based_on=None,
                             translation_of=second, draft=KAZAN_UK)
    cosigning.invite_partner(statement, by=u["coordinator"], organisation=Organisation.objects.get(name=PARTNER["name"]))
    services.open_for_signature(statement, by=u["coordinator"], deadline=None)
    signers = u["signers"]
    _sign(statement, u["signer"], "Truth Hounds", "Human Rights Center ZMINA")
    for name in (PARTNER["name"], "Ukrainian Legal Advisory Group", "The Reckoning Project", "Crimean Human Rights Group"):
        _sign(statement, signers[name], name)
    services.close_signing(statement, by=u["coordinator"])
    services.publish(statement, by=u["coordinator"])


def _open_arrest(coalition, u):
    statement = services.create_draft(coalition, by=u["drafter"], draft=ARREST_EN_1, language="en",
                                      slug="states-parties-must-arrest", allows_individuals=True)
    first = statement.current_revision
    first_uk = services.add_translation(statement, by=u["signer"], language="uk", based_on=None,
                                        translation_of=first, draft=ARREST_UK_1)
    second = services.save_revision(statement, by=u["drafter"], based_on=first, draft=ARREST_EN_2)
    # The first translation went out of date with the text; the second translates the text signed.
    services.add_translation(statement, by=u["signer"], language="uk", based_on=first_uk,
                             translation_of=second, draft=ARREST_UK_2)
    services.open_for_signature(statement, by=u["coordinator"], deadline=timezone.now() + timedelta(days=14))
    # Some members signed, one declined, the rest (ZMINA among them: try signing as signer@) have not answered.
    signers = u["signers"]
    _sign(statement, u["signer"], "Truth Hounds")
    for name in ("Ukrainian Legal Advisory Group", "The Reckoning Project", "Crimean Human Rights Group"):
        _sign(statement, signers[name], name)
    cosigning.decline(statement, by=signers["Ukrainian Helsinki Human Rights Union"],
                      organisation=Organisation.objects.get(name="Ukrainian Helsinki Human Rights Union"),
                      reason="Our board meets only after the deadline; we may join a later statement on this.")
    _individuals(statement)


def _draft_children(coalition, u):
    statement = services.create_draft(coalition, by=u["signer"], draft=CHILDREN_UK, language="uk",
                                      slug="deported-children-warrants")
    services.add_comment(statement, by=u["drafter"],
                         body="Should the title name the Court? Readers abroad may not know which court is meant.")
    comment = services.add_comment(statement, by=u["coordinator"],
                                   body="Пропоную додати, скільки держав зобов'язані виконати ордери: 123.")
    services.add_comment(statement, by=u["signer"], body="Згоден, додам у наступній редакції.")
    services.resolve_comment(comment, by=u["coordinator"])


def _closed_mongolia(coalition, u):
    statement = services.create_draft(coalition, by=u["drafter"], draft=MONGOLIA_EN, language="en",
                                      slug="mongolia-did-not-arrest")
    services.open_for_signature(statement, by=u["coordinator"], deadline=None)
    services.close_signing(statement, by=u["coordinator"])


def _withdrawn_early_reaction(coalition, u):
    statement = services.create_draft(coalition, by=u["drafter"], draft=KAZAN_EARLY_EN, language="en",
                                      slug="kazan-first-reaction")
    services.withdraw(statement, by=u["coordinator"],
                      reason="Replaced by the joint statement with the Center for Civil Liberties on the meeting in Kazan.")


STATEMENTS = [
    (KAZAN_SLUG, _published_kazan),
    ("states-parties-must-arrest", _open_arrest),
    ("deported-children-warrants", _draft_children),
    ("mongolia-did-not-arrest", _closed_mongolia),
    ("kazan-first-reaction", _withdrawn_early_reaction),
]


def seed_statements(stdout) -> None:
    coalition = Coalition.objects.get(slug=COALITION["slug"])
    users = {**_users(), "signers": seed_signers()}
    for slug, make in STATEMENTS:
        if Statement.objects.filter(slug=slug).exists():
            continue
        with transaction.atomic():
            make(coalition, users)
    stdout.write("Demo statements:")
    for statement in Statement.objects.filter(coalition=coalition).select_related("current_revision"):
        stdout.write(f"  {statement.get_status_display():<20} /statements/{statement.slug}/")
    stdout.write(f"Demo signers of other organisations (password: {DEMO_PASSWORD}):")
    for email, _name, _language, organisation in DEMO_SIGNERS:
        stdout.write(f"  {email:<26} may sign for {organisation}")


def seed_publications(stdout) -> None:
    """The published Kazan statement gets its signed PDF, made here in-process (a worker may not be
    running while seeding). Safe to run again: a ready issue is left as it is."""
    statement = Statement.objects.filter(slug=KAZAN_SLUG, status=Statement.Status.PUBLISHED).first()
    if statement is None:
        return
    if not statement.publications.exists():
        with transaction.atomic():
            publishing.start_issue(statement, by=_users()["coordinator"])
    for publication in statement.publications.filter(state=Publication.State.PENDING):
        publishing.prepare(publication.pk)
    for publication in statement.publications.all():
        stdout.write(f"  Issue {publication.number} ({publication.get_state_display()}) "
                     f"/statements/{statement.slug}/pdf/?issue={publication.number} {publication.failure}")


seeders = [seed_statements, seed_publications]
