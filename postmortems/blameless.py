"""The blameless-language check: finds sentences that blame a person.

Pure: text and a list of known people's names in, a list of hits out (span,
matched text, rule, and a suggestion that asks what in the system allowed it).
No ORM, no request. Hits never block saving; the submit step asks for an explicit
acknowledgement when some remain.

Decisions worth knowing (each has a test in tests/postmortems/test_blameless.py):

- "should have" is hindsight about a *person*. It is flagged only when its subject
  is a person (a known name, an @handle, a pronoun such as "he" or "we", or a role
  such as "the on-call engineer"): "Alice should have checked" is a hit, "the job
  should have completed by 02:00" is not. A passive "should have been paged" is
  about the system, not a hit.
- "failed to" works the same way: "the health check failed to detect it" is fine,
  "Bob failed to follow the runbook" is not.
- "human error", "operator error", "user error" are hits only when framed as a
  cause ("root cause: human error", "was operator error", "due to user error",
  "human error caused ..."). "User error rate" or "we automated it to reduce human
  error" are not.
- Words that only look alike are left alone: "blameless", "human-readable", "the
  operator dashboard", "error budget", "negligible", "lazy loading".
- Code spans and fenced code blocks are skipped: log excerpts quote what they quote.
- Names are matched case-sensitively, as written ("Mark" is a person, "mark the
  incident resolved" is not); an @handle is a person whatever the list says.
"""

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

RULES: dict[str, tuple[str, str]] = {
    "person_as_cause": (
        "A person named as the cause",
        "Name the action and its context, not the person. What in the system let "
        "this one action cause an outage, and why did no safeguard stop it?",
    ),
    "possessive_fault": (
        "Fault assigned to a person",
        "Fault sits with the system, not a person. What in the system made this "
        "mistake easy to make and hard to catch?",
    ),
    "human_error": (
        "“Human error” as a cause",
        "Human error is where an investigation starts, not a root cause. What in the "
        "system (tooling, process, design) allowed the error, and why didn't a "
        "safeguard catch it?",
    ),
    "counterfactual": (
        "Hindsight about a person (“should have”)",
        "“Should have” is hindsight. What did the person know at the time, and what "
        "in the system would have made the safer choice the easy one?",
    ),
    "forgot": (
        "Relying on memory (“forgot to”)",
        "People forget; systems can remind. Which step relied on someone "
        "remembering, and what in the system could check or automate it?",
    ),
    "person_failed": (
        "A person “failed”",
        "Describe what happened, not who failed. What in the system made this step "
        "easy to miss or hard to do right?",
    ),
    "judgement": (
        "Judging a person",
        "Judging a person explains nothing. Which conditions in the system (time "
        "pressure, tooling, missing guard rails) made this action likely?",
    ),
    "blame": (
        "Blame",
        "Postmortems look for causes, not culprits. What in the system allowed this "
        "to happen?",
    ),
}


@dataclass(frozen=True)
class BlameHit:
    start: int
    end: int
    text: str
    rule: str
    label: str
    suggestion: str

    def as_dict(self) -> dict:
        return asdict(self)


# --- people -------------------------------------------------------------------

PRONOUN_SUBJECTS = frozenset(
    {
        "he", "she", "they", "i", "we", "you", "someone", "somebody", "anyone",
        "anybody", "everyone", "everybody",
    }
)  # fmt: skip
PRONOUN_OBJECTS = r"him|her"
POSSESSIVE_PRONOUNS = r"his|her|their|my|our|your"
ROLE_NOUNS = (
    r"engineer|operator|developer|dev|admin|administrator|sysadmin|on-?caller|"
    r"on-?call|sre|intern|contractor|reviewer|author|owner|manager|person|people|"
    r"employee|team|responder|human|staff|staffer|lead|approver|deployer|committer"
)
ROLE_WORDS = frozenset(
    {word for word in ROLE_NOUNS.split("|") if "?" not in word}
    | {"on-call", "oncall", "on-caller", "oncaller"}
)
# "the operator dashboard", "the on-call rotation": a role word followed by one of
# these is part of a thing's name, not a person.
COMPOUND_NEXT = (
    r"dashboard|dashboards|console|tool|tools|tooling|account|accounts|role|roles|"
    r"group|groups|panel|ui|api|view|page|pages|script|scripts|runbook|runbooks|guide|"
    r"error|errors|portal|access|permission|permissions|channel|rotation|schedule|"
    r"handbook|doc|docs|documentation|interface|cli|workflow|queue|alert|alerts|"
    r"metric|metrics|handoff|experience|mode|override|login|session|sessions|bot|"
    r"field|setting|settings|pattern|framework|image|binary|process"
)
ROLE_PHRASE = (
    r"(?:the|an?|our|one|some|that|this|every|each|any)\s+"
    r"(?:(?:on-?call|junior|senior|new|release|responsible|primary|secondary|"
    r"database|network|platform|payments|sre|support|deploying|reviewing|"
    r"human|duty)\s+)*"
    rf"(?:{ROLE_NOUNS})s?\b(?![\s-]+(?:{COMPOUND_NEXT})\b)"
)
HANDLE = r"@[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]|@[A-Za-z0-9_]"
# Words skipped when walking back from a verb to its subject.
ADVERBS = frozenset(
    {
        "really", "clearly", "obviously", "probably", "definitely", "just", "also",
        "simply", "certainly", "surely", "absolutely", "then", "therefore",
        "arguably", "honestly", "perhaps", "maybe", "again", "still", "apparently",
        "evidently", "repeatedly", "completely", "totally", "all", "both", "never",
        "always", "initially", "originally", "unfortunately", "themselves",
        "himself", "herself",
    }
)  # fmt: skip


@dataclass(frozen=True)
class _People:
    pattern: str | None  # alternation of known name words (case-sensitive)
    words: frozenset[str]

    def is_person_word(self, word: str) -> bool:
        if re.fullmatch(HANDLE, word):
            return True
        if word in self.words:
            return True
        lowered = word.lower()
        if lowered in PRONOUN_SUBJECTS:
            return True
        singular = lowered[:-1] if lowered.endswith("s") else lowered
        return lowered in ROLE_WORDS or singular in ROLE_WORDS


def _people(names: Iterable[str]) -> _People:
    words: set[str] = set()
    for name in names:
        name = (name or "").strip()
        if not name:
            continue
        if name.startswith("@"):
            continue  # handles are recognised by their @ anyway
        for word in re.findall(r"[^\W\d_][\w'’-]*", name):
            if len(word) >= 2:
                words.add(word)
    pattern = None
    if words:
        ordered = sorted(words, key=lambda w: (-len(w), w))
        # Case-sensitive even inside IGNORECASE patterns: "Mark" is a person,
        # "mark the incident resolved" is not.
        pattern = r"(?-i:\b(?:" + "|".join(re.escape(w) for w in ordered) + r")\b)"
    return _People(pattern=pattern, words=frozenset(words))


def _person_ref(people: _People) -> str:
    """A regex alternative for a reference to a person: handle, name or role."""
    options = [HANDLE, ROLE_PHRASE]
    if people.pattern:
        options.insert(1, people.pattern)
    return "(?:" + "|".join(options) + ")"


# --- masking code -------------------------------------------------------------

_CODE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]*`", re.DOTALL)


def _mask_code(text: str) -> str:
    """Blank out code spans and fences, keeping every other offset unchanged."""
    return _CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


# --- subject detection --------------------------------------------------------

_WORD = re.compile(r"[@\w][\w'’.-]*")
_CLAUSE_BREAK = re.compile(
    r"[.!?;:]\s|[.!?;:]$|\n\s*\n|\n\s*[-*+]\s|,\s*(?:but|so|while)\s"
)


_CONJUNCTIONS = frozenset({"and", "but", "or", "then", "yet", "so", "nor"})


def _person_subject(text: str, index: int, known: _People) -> int | None:
    """Where the person who is the subject of the verb at ``index`` is named.

    Returns the offset to start the hit at, or None when the subject is not a
    person. The subject is the head word right before the verb ("the on-call
    engineer should have"); after a conjunction the subject was given earlier in
    the clause ("he was careless, assumed it was a blip and should have"), and the
    hit then starts at the verb.
    """
    start = max(0, index - 160)
    window = text[start:index]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    offset = breaks[-1].end() if breaks else 0
    words = list(_WORD.finditer(window, offset))
    while words and words[-1].group(0).lower().rstrip(".") in ADVERBS:
        words.pop()
    if not words:
        return None
    head = words[-1]
    if head.group(0).lower() in _CONJUNCTIONS:
        earlier = [w for w in words[:-1] if known.is_person_word(_bare(w.group(0)))]
        return index if earlier else None
    if known.is_person_word(_bare(head.group(0))):
        return start + head.start()
    return None


def _bare(word: str) -> str:
    # "Alice's" / "the team's" as a subject would be odd; use the bare word.
    return re.sub(r"['’]s$", "", word.rstrip(".,"))


# --- the rules ----------------------------------------------------------------

_NEGATION_BEFORE = re.compile(
    r"\b(?:no|not|never|without|nobody|nobody's|no one|no-one|don't|do not|"
    r"doesn't|does not|didn't|did not|isn't|is not|won't|will not|avoid|avoids|"
    r"avoiding)\b(?:\W+\w+){0,3}\W*$",
    re.IGNORECASE,
)

_ERROR_NOUN_NEXT = (
    r"(?!\s*(?:rate|rates|ratio|budget|budgets|count|counts|message|messages|page|"
    r"pages|code|codes|log|logs|handling|handler|metric|metrics|dashboard|response|"
    r"responses|path|paths|spike|spikes|reporting|tracking|class|classes|type|types|"
    r"state|states|field|fields|banner|screen|toast)\b)"
)

_HUMAN_ERROR = re.compile(
    r"\b(?:human|operator|user|pilot|engineer|personnel|staff|manual|people|"
    r"on-?call)[\s-]+(?:error|mistake|fault|failure|slip)s?\b" + _ERROR_NOUN_NEXT,
    re.IGNORECASE,
)
_CAUSE_BEFORE = re.compile(
    r"(?:\broot[\s-]+causes?(?:\s+(?:was|is|were|being))?|\bcause[sd]?(?:\s+(?:was|"
    r"is))?|\bcaused\s+by|\bdue\s+to|\bbecause\s+of|\bresult\s+of|\bowing\s+to|"
    r"\battributed\s+to|\bfactors?|\bdown\s+to|\bup\s+to|\bblamed?\s+on|\bcase\s+of|\bwas|\bwere|"
    r"\bis|\bas|\bit's|\bjust|\bsimply)"
    r"\s*[:\-–—]?\s*(?:(?:an?|the|simple|pure|plain|classic|obvious|basic|typical|"
    r"mere|some)\s+)*$",
    re.IGNORECASE,
)
_CAUSE_AFTER = re.compile(
    r"^\s*(?:was|is)?\s*(?:the\s+)?(?:caused|led\s+to|triggered|resulted\s+in|"
    r"brought|took|broke|started|(?:root\s+)?cause\b|to\s+blame|culprit)",
    re.IGNORECASE,
)
_LINE_LABEL = re.compile(r"(?:^|\n)\s*(?:[-*+]\s+|#+\s+)?$")

_FAULT_WORDS = (
    r"mistake|mistakes|fault|faults|blunder|blunders|screw-?up|screw-?ups|oversight|"
    r"negligence|carelessness|slip-?up|goof"
)
_JUDGEMENT = re.compile(
    r"\b(?:careless(?:ly|ness)?|negligen(?:t|tly|ce)|incompeten(?:t|tly|ce|cy)|"
    r"reckless(?:ly|ness)?|sloppy|sloppily|sloppiness|laz(?:y|iness|ily)"
    r"(?![\s-]+(?:load|loading|loaded|loads|eval|evaluation|evaluated|init|"
    r"initiali[sz]ation|initiali[sz]ed|import|imports|iterator|iteration|fetch|"
    r"fetching|computation|compil|binding|decod|deseriali[sz]|parse|parsing|"
    r"sequence|list|queue|propagation|migration|expansion|connection)\w*)|"
    r"stupid(?:ity|ly)?|idiot(?:s|ic)?|clueless|inattentive(?:ness)?|inattention|"
    r"irresponsib(?:le|ly|ility)|unprofessional(?:ly)?|incapable|"
    r"lapse\s+(?:in|of)\s+judge?ment|fat[\s-]?finger(?:ed|ing|s)?|"
    r"dropped\s+the\s+ball|asleep\s+at\s+the\s+wheel|rookie\s+(?:mistake|error)|"
    r"(?:wasn't|was\s+not|weren't|were\s+not|not)\s+paying\s+attention|"
    r"didn't\s+pay\s+attention|did\s+not\s+pay\s+attention|should've\s+known|"
    r"should\s+have\s+known\s+better)",
    re.IGNORECASE,
)
_BLAME = re.compile(
    r"\b(?:blam(?:e|ed|es|ing)|blameworthy|scapegoat(?:s|ed|ing)?)\b",
    re.IGNORECASE,
)
_FORGOT = re.compile(
    r"\b(?:forgot|forgotten|forgetting)\s+(?:to|that|about)\b", re.IGNORECASE
)
_COUNTERFACTUAL = re.compile(
    r"\b(?:should(?:\s+not|n't|n’t)?\s+have|should(?:'|’)ve|ought(?:\s+not)?\s+to\s+"
    r"have|oughtn't\s+to\s+have)\b(?P<after>\s+[\w'’-]+)?",
    re.IGNORECASE,
)
# Passive "should have been paged" is about the system; an adjective after "been"
# ("should have been more careful") is about the person.
_PASSIVE_PARTICIPLE = re.compile(
    r"\s+been\s+(?:\w+ed|told|given|shown|sent|woken|seen|caught|known|taken|"
    r"written|run|built|made|held|kept|able|put|set|brought|rolled|spun)\b",
    re.IGNORECASE,
)
_PERSON_FAILED = re.compile(
    r"\b(?:failed\s+to|neglected\s+to|omitted\s+to|didn't\s+bother|did\s+not\s+bother|"
    r"refused\s+to|ignored|overlooked|botched|messed\s+up|screwed\s+up|"
    r"made\s+(?:an?|the)\s+(?:\w+\s+)?(?:mistake|error|blunder)|"
    r"missed(?=\s+(?:the|a|an|that|this|it|their|his|her)\b))",
    re.IGNORECASE,
)
# Verbs that make their subject (or their "by ...") the cause. "Alice triggered a
# failover" or "started by the on-call engineer" describe a response, not a cause.
_CAUSE_VERBS = r"caused|broke|took\s+down|brought\s+down|crashed|killed|nuked"
_CAUSE_VERBS_BY = r"caused|broken|introduced|crashed|nuked"


def analyze(text: str | None, *, people: Iterable[str] = ()) -> list[BlameHit]:
    """Every blaming phrase in ``text``, in order. ``people`` are known names."""
    if not text:
        return []
    masked = _mask_code(text)
    known = _people(people)
    found: list[tuple[int, int, str]] = []

    def add(start: int, end: int, rule: str) -> None:
        found.append((start, end, rule))

    person_any = _person_ref(known)
    person_named = (
        "(?:"
        + "|".join(
            [HANDLE, r"\b(?:he|she)\b"] + ([known.pattern] if known.pattern else [])
        )
        + ")"
    )

    # A person as the cause: "caused by @bob", "because of Alice", "Bob broke it",
    # "root cause: the on-call engineer".
    cause_patterns = [
        rf"\b(?:{_CAUSE_VERBS_BY})\s+by\s+(?:{person_any}|\b(?:{PRONOUN_OBJECTS})\b)",
        rf"\bbecause\s+of\s+(?:{person_any}|\b(?:{PRONOUN_OBJECTS})\b)",
        rf"\bdue\s+to\s+(?:{person_any}|\b(?:{PRONOUN_OBJECTS})\b)(?!['’]s)",
        rf"\bbecause\s+{person_named}(?!['’]s)",
        rf"(?:{person_any}|\b(?:he|she)\b)\s+(?:\w+ly\s+)?(?:{_CAUSE_VERBS})\b",
        rf"\b(?:root[\s-]+cause|culprit|the\s+cause)\s*(?:was|is|:|-|–)\s*"
        rf"(?:{person_any})",
        rf"\b(?:error|mistake|fault|slip|blunder|oversight)s?\s+(?:made\s+)?by\s+"
        rf"(?:{person_any}|\b(?:{PRONOUN_OBJECTS})\b)",
    ]
    for pattern in cause_patterns:
        for match in re.finditer(pattern, masked, re.IGNORECASE):
            add(match.start(), match.end(), "person_as_cause")

    # "Bob's mistake", "the engineer's fault", "his error".
    possessor = (
        rf"(?:{HANDLE}|{known.pattern + '|' if known.pattern else ''}{ROLE_PHRASE}"
        r"|\b[A-Za-z][\w-]*)"
    )
    for match in re.finditer(
        rf"{possessor}['’]s\s+(?:own\s+)?(?:{_FAULT_WORDS}|error|errors)\b"
        + _ERROR_NOUN_NEXT,
        masked,
        re.IGNORECASE,
    ):
        owner = re.sub(r"['’]s\s.*$", "", match.group(0), flags=re.DOTALL)
        is_error = re.search(r"errors?$", match.group(0), re.IGNORECASE)
        if owner.lower() in {"nobody", "no one", "no-one", "noone"}:
            continue
        if is_error and not _owner_is_person(owner, known):
            continue  # "the parser's error" is a fact about the parser
        add(match.start(), match.end(), "possessive_fault")
    for match in re.finditer(
        rf"\b(?:{POSSESSIVE_PRONOUNS})\s+(?:own\s+)?(?:{_FAULT_WORDS}|error|errors)\b"
        + _ERROR_NOUN_NEXT,
        masked,
        re.IGNORECASE,
    ):
        add(match.start(), match.end(), "possessive_fault")

    for match in _HUMAN_ERROR.finditer(masked):
        before = masked[max(0, match.start() - 60) : match.start()]
        after = masked[match.end() : match.end() + 80]
        if (
            _CAUSE_BEFORE.search(before)
            or _CAUSE_AFTER.search(after)
            or (_LINE_LABEL.search(before) and re.match(r"\s*[.:]?\s*$", after[:2]))
        ):
            # "operator error by Chen": the hit names the person too.
            by_person = re.match(rf"\s+by\s+{person_any}", after, re.IGNORECASE)
            end = match.end() + (by_person.end() if by_person else 0)
            add(match.start(), end, "human_error")

    for match in _COUNTERFACTUAL.finditer(masked):
        if _PASSIVE_PARTICIPLE.match(masked, match.end() - len(match["after"] or "")):
            continue
        begin = _person_subject(masked, match.start(), known)
        if begin is not None:
            add(begin, match.end(), "counterfactual")

    for match in _FORGOT.finditer(masked):
        add(match.start(), match.end(), "forgot")

    for match in _PERSON_FAILED.finditer(masked):
        begin = _person_subject(masked, match.start(), known)
        if begin is not None:
            add(begin, match.end(), "person_failed")

    for match in _JUDGEMENT.finditer(masked):
        add(match.start(), match.end(), "judgement")

    for match in _BLAME.finditer(masked):
        if _NEGATION_BEFORE.search(masked[max(0, match.start() - 40) : match.start()]):
            continue  # "we do not assign blame"
        add(match.start(), match.end(), "blame")

    return [
        BlameHit(
            start=start,
            end=end,
            text=text[start:end],
            rule=rule,
            label=RULES[rule][0],
            suggestion=RULES[rule][1],
        )
        for start, end, rule in _without_overlaps(found)
    ]


def _owner_is_person(owner: str, known: _People) -> bool:
    words = owner.split()
    return bool(words) and known.is_person_word(words[-1])


def _without_overlaps(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Keep the longest of overlapping hits; earlier rules win ties."""
    order = {rule: index for index, rule in enumerate(RULES)}
    ranked = sorted(found, key=lambda hit: (-(hit[1] - hit[0]), order[hit[2]]))
    kept: list[tuple[int, int, str]] = []
    for hit in ranked:
        if all(hit[1] <= other[0] or hit[0] >= other[1] for other in kept):
            kept.append(hit)
    return sorted(kept)


def analyze_fields(
    fields: Iterable[tuple[str, str, str]], *, people: Iterable[str] = ()
) -> list[dict]:
    """Check several texts: ``(field key, field label, text)`` in, hit dicts out."""
    people = list(people)
    hits = []
    for key, label, text in fields:
        for hit in analyze(text, people=people):
            hits.append({"field": key, "field_label": label, **hit.as_dict()})
    return hits
