"""Offline answers: sentences built only from computed figures and quoted passages.

Every number in an offline answer is either a figure computed here from Redis or
part of a passage quoted verbatim with its document id, so nothing is invented.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..docs.corpus import NOTICE, REAL_NAME_NOTICE
from ..docs.retrieve import Passage
from ..logs.analytics import IpCount, LogFigures
from .analytic import Figures, whole_of
from .answer import Source
from .understand import DATASET_NAMES, FIELD_WORDS, SHARE_PART, Interpretation, effective_severities

#: Below this cosine similarity a passage is not considered relevant to the question.
MIN_SIMILARITY = 0.3
_LIST = re.compile(r"^\s*(list|name|what are|which|enumerate|give me (all|the))\b", re.I)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def top_ips(status: int, total: int, ips: list[IpCount], entries: int) -> str:
    if total == 0:
        return f"No HTTP {status} responses were found in the {entries} indexed log entries."
    ranked = "; ".join(f"{ip.ip} ({_plural(ip.count, 'response')})" for ip in ips)
    return (
        f"The IPs generating the most HTTP {status} responses are: {ranked}. "
        f"These come from {total} responses with status {status} among {entries} indexed log entries "
        f"(counted exactly from the logs)."
    )


def stats(dist: dict[int, int], status: int | None, errors: int, access: int) -> str:
    if not access:
        return "No HTTP access logs are indexed yet."
    rate = f"{errors / access:.2%}"
    head = f"{access} HTTP requests are indexed; {errors} returned an error status (4xx/5xx), an error rate of {rate}."
    if status is not None:
        return f"{head} Status {status} occurred {_plural(dist.get(status, 0), 'time')}."
    top = ", ".join(
        f"{code}: {count}" for code, count in sorted(dist.items(), key=lambda kv: -kv[1])[:6]
    )
    return f"{head} Most frequent statuses: {top}."


def summary(s: LogFigures) -> str:
    noisy = ", ".join(f"{n['ip']} ({n['count']}x {n['status']})" for n in s["noisy_ips"][:3])
    return (
        f"{s['total_entries']} log entries are indexed ({s['access_entries']} HTTP, {s['app_entries']} "
        f"application). {s['http_errors']} HTTP responses were errors ({s['http_error_rate']:.2%}). "
        f"Noisiest sources: {noisy or 'none'}."
    )


def relevant(passages: list[Passage]) -> list[Passage]:
    return [p for p in passages if p.similarity >= MIN_SIMILARITY]


def documents(question: str, passages: list[Passage]) -> str:
    """Quote the relevant passages with their document ids; say so when there are none."""
    keep = relevant(passages)
    if not keep:
        return "Nothing relevant to this question was found in the indexed documents."
    if _LIST.search(question):
        body = "\n".join(f"- {p.text} [{p.doc_id}]" for p in keep)
        text = f"From the indexed documents:\n{body}"
    else:
        text = "According to the indexed documents: " + " ".join(
            f"{p.text} [{p.doc_id}]" for p in keep
        )
    if any(p.synthetic for p in keep):
        bp = any(p.operator.upper() == "BP" for p in keep)
        text += f"\n\nNote: {REAL_NAME_NOTICE if bp else NOTICE}"
    return text


def passage_sources(passages: list[Passage]) -> list[Source]:
    return [
        Source(p.chunk_id, "passage", p.title, p.text[:300], p.similarity)
        for p in relevant(passages)
    ]


# --------------------------------------------------------------------------- interpreted


_NOUNS = {
    "incidents": ("safety incident", "safety incidents"),
    "http": ("HTTP request", "HTTP requests"),
    "app": ("application log entry", "application log entries"),
}
_GROUP_NAMES = {
    "ip": "IP",
    "client": "user agent",
    "kind": "incident kind",
    "status": "HTTP status",
    "path": "request path",
    "method": "HTTP method",
    "level": "log level",
}


def _noun(dataset: str, n: int) -> str:
    one, many = _NOUNS[dataset]
    return f"{n} {one if n == 1 else many}"


def _date_phrase(value: str) -> str:
    if value.startswith(("from ", "up to ")):
        return value
    if " to " in value:
        return f"from {value}"
    return f"in {value}" if len(value) <= 7 else f"on {value}"


#: How each constraint reads in an answer ({} = its values).
_SCOPE = {
    "operator": "in {} operations",
    "site": "at {}",
    "region": "in {}",
    "date": "{}",
    "time": "during {} UTC",
    "kind": "of kind {}",
    "ip": "from IP {}",
    "method": "using {}",
    "path": "to {}",
    "client": "from user agent {}",
    "level": "at level {}",
    "service": "from the {} service",
    "latency": "with latency {} ms",
}


def scope(i: Interpretation) -> str:
    """The applied constraints, in words: 'in BP operations in 2024 at TX-BRAVO'."""
    parts: list[str] = []
    for name, phrase in _SCOPE.items():
        for exclude in (False, True):
            chosen = [c for c in i.applied if c.field == name and c.exclude == exclude]
            if not chosen:
                continue
            if name == "date":
                words = " and ".join(" or ".join(_date_phrase(v) for v in c.values) for c in chosen)
            elif name == "region":
                words = phrase.format(
                    " or ".join(f"{c.text} ({', '.join(c.values)})" for c in chosen)
                )
            else:
                words = phrase.format(" or ".join(v for c in chosen for v in c.values))
            parts.append(f"not {words}" if exclude else words)
    if any(c.field == "severity" for c in i.applied):
        parts.append(f"of severity {' or '.join(effective_severities(i))}")
    if i.statuses:
        codes = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in i.statuses]
        parts.append(f"with status {' or '.join(codes)}")
    return " ".join(dict.fromkeys(parts))


def caveats(i: Interpretation) -> str:
    """What the question said that the figure does not apply, said first."""
    if not i.not_understood:
        return ""
    items = "; ".join(f"'{n.text}' ({n.reason})" for n in i.not_understood)
    return f"Not applied, not understood: {items}. "


def uncounted(i: Interpretation) -> str:
    """Before document passages: a count asked of something no records count."""
    if not i.not_understood:
        return ""
    what = " and ".join(f"'{n.text}'" for n in i.not_understood)
    return (
        f"No records count {what} (they count incidents, HTTP requests and application "
        "log entries); what the documents say follows. "
    )


def mappings(i: Interpretation) -> str:
    notes = [c.note for c in i.applied if c.note]
    return f" Interpretation: {'; '.join(notes)}." if notes else ""


def refusal(i: Interpretation) -> str:
    """The answer when a named value is not in the records or constraints contradict."""
    records = DATASET_NAMES[i.dataset] if i.dataset != "documents" else "records"
    lines: list[str] = []
    if i.contradictions:
        lines.append(
            "The question's constraints contradict each other: "
            + "; ".join(i.contradictions)
            + ". No figure is given."
        )
    for n in i.not_found:
        known = ", ".join(n.known) if n.known else "none"
        if n.field == "operator":
            lines.append(
                f"No {records} are recorded for operator {n.text}; operators in the records are {known}."
            )
        elif n.field == "site":
            lines.append(f"No {records} name site {n.text}; sites in the records are {known}.")
        elif n.field == "region":
            lines.append(f"No site in the {records} is in {n.text}; the sites are in {known}.")
        elif n.field == "date":
            lines.append(
                f"No {records} are dated {n.text}; the records span {' to '.join(n.known)}."
            )
        elif n.field == "ip":
            lines.append(f"No requests from IP {n.text} are in the {records}.")
        elif n.field == "name":
            lines.append(
                f"'{n.text}' matches no operator, site or region in the {records} "
                f"(operators and sites in the records: {known})."
            )
        else:
            word = FIELD_WORDS.get(n.field, n.field).split(" ", 1)[-1]
            lines.append(f"No {records} have {word} '{n.text}'; values recorded: {known}.")
    return " ".join(lines)


def interpreted(i: Interpretation, f: Figures) -> str:
    where = scope(i)
    head = caveats(i)
    if i.intent in ("group", "rank") and i.group_by:
        name = _GROUP_NAMES.get(i.group_by, i.group_by)
        if not f.groups or f.total == 0:
            text = f"No {_NOUNS[i.dataset][1]} were found {where or 'in the records'}."
        elif i.intent == "group":
            body = "; ".join(f"{k}: {n}" for k, n in f.groups)
            text = (
                f"{_NOUNS[i.dataset][1][0].upper()}{_NOUNS[i.dataset][1][1:]} {where + ' ' if where else ''}by {name} "
                f"(counted exactly): {body}. Total: {f.total}."
            )
        else:
            most = "fewest" if i.order == "asc" else "most"
            ranked = "; ".join(f"{k} ({c})" for k, c in f.groups)
            tie = " (tied)" if len(f.groups) > (i.limit or 1) else ""
            more = (
                f" {f.tied_beyond} more share the last count ({f.groups[-1][1]})."
                if f.tied_beyond
                else ""
            )
            text = (
                f"The {name}{('es' if name.endswith('s') else 's') if len(f.groups) > 1 else ''} with the {most} "
                f"{_NOUNS[i.dataset][1]} {where + ' ' if where else ''}(counted exactly){tie}: "
                f"{ranked}.{more} Out of {_noun(i.dataset, f.total)} in total."
            )
    elif i.intent == "share":
        whole = whole_of(i)
        part = scope(replace(i, applied=[c for c in i.applied if c.field in SHARE_PART]))
        if not f.whole:
            text = f"No {_NOUNS[i.dataset][1]} were found {scope(whole) or 'in the records'}."
        else:
            text = (
                f"{f.total} of {_noun(i.dataset, f.whole)} {scope(whole) or 'in all records'} "
                f"are {part}: {f.share_pct}% (counted exactly)."
            )
    elif f.total == 0:
        text = f"No {_NOUNS[i.dataset][1]} were found {where or 'in the records'}."
    elif i.dataset == "incidents":
        parts = ", ".join(
            f"{f.by_severity[s]} {s}"
            for s in ("minor", "moderate", "major")
            if f.by_severity.get(s)
        )
        asked = effective_severities(i) if any(c.field == "severity" for c in i.applied) else []
        absent = [
            s for s in ("minor", "moderate", "major") if not f.by_severity.get(s) and not asked
        ]
        tail = f" No {' or '.join(absent)} incidents were recorded." if absent else ""
        text = (
            f"{_noun('incidents', f.total)} occurred {where or 'in all records'}: {parts}.{tail} "
            "Source: the incident records (counted exactly)."
        )
    else:
        text = f"{_noun(i.dataset, f.total)} {where or 'in all records'} (counted exactly)."
    text = head + text + mappings(i)
    if i.dataset == "incidents":
        bp = any(v.upper() == "BP" for v in i.values("operator")) or any(
            k.upper() == "BP" for k, _ in f.groups
        )
        text += f" {REAL_NAME_NOTICE if bp else NOTICE}"
    return text
