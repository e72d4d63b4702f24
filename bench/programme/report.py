"""The report: our measures beside the published figures, the what-ifs side by side, the
server's cost, the assumptions, and the charts (PNG)."""

import json
import statistics
from pathlib import Path
from typing import Any

# As quoted in issue 18 (MSF's telemedicine network; the Swinfen Charitable Trust's).
MSF = {
    "specialists": "~280",
    "cases_per_week": "~18",
    "allocation_h": "~0.2",
    "first_response_h": "~5",
}
SWINFEN = {"within_48h": "most", "within_72h": "~70%", "unmatched": "backup after 72 h"}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _h(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _num(x: float | None, unit: str = "") -> str:
    return "n/a" if x is None else f"{x:g}{unit}"


def measures(run: dict[str, Any]) -> dict[str, Any]:
    """The figures of one run: /metrics/quality's, and the few the API's answers give."""
    q, cases, p = run["quality"], run["cases"], run["params"]
    n = q["cases_submitted"]
    fu = q["follow_ups"]
    within_48 = [c for c in cases if c["signed_h"] is not None and c["signed_h"] <= 48]
    return {
        "specialists": p["specialists"],
        "cases": n,
        "cases_per_week": round(n / p["weeks"], 1),
        "allocation_h": _median(
            [c["allocation_h"] for c in cases if c["allocation_h"] is not None]
        ),
        "accept_h": _h(q["time_to_accept"]["median_minutes"]),
        "first_response_h": _h((q["time_to_first_response"] or {}).get("median_minutes")),
        "first_response_p90_h": _h((q["time_to_first_response"] or {}).get("p90_minutes")),
        "signed_h": _h(q["time_to_signed_note"]["median_minutes"]),
        "within_48h": round(len(within_48) / len(cases), 4) if cases else None,
        "within_72h": q.get("answered_within_72h_rate"),
        "within_sla": q["answered_within_sla_rate"],
        "unmatched": q["unmatched"],
        "unmatched_share": round(q["unmatched"] / n, 4) if n else None,
        "offer_acceptance": q["offer_acceptance_rate"],
        "follow_up_completion": round(fu["done"] / fu["due"], 4) if fu["due"] else None,
        "notes_acknowledged": q["notes_acknowledged_rate"],
        "usefulness": q["usefulness_mean"],
        "changed_management": q["changed_management_rate"],
        "round_local_attendance": q["rounds"]["local_attendees_per_occurrence"],
    }


def comparison_rows(m: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        ("Volunteer specialists", str(m["specialists"]), MSF["specialists"], ""),
        ("Cases per week", _num(m["cases_per_week"]), MSF["cases_per_week"], ""),
        ("Allocation: submission to first offer, median (h) [a]", _num(m["allocation_h"]),
         MSF["allocation_h"], ""),
        ("Time to accept, median (h)", _num(m["accept_h"]), "", ""),
        ("Time to first specialist response, median (h)", _num(m["first_response_h"]),
         MSF["first_response_h"], ""),
        ("Time to first specialist response, p90 (h)", _num(m["first_response_p90_h"]), "", ""),
        ("Time to signed consult note, median (h)", _num(m["signed_h"]), "", ""),
        ("Answered (note signed) within 48 h [a]", _pct(m["within_48h"]), "",
         SWINFEN["within_48h"]),
        ("Answered within 72 h", _pct(m["within_72h"]), "", SWINFEN["within_72h"]),
        ("Answered within the urgency's deadline", _pct(m["within_sla"]), "", ""),
        ("Unmatched (nobody left to offer)", f"{m['unmatched']} ({_pct(m['unmatched_share'])})",
         "", SWINFEN["unmatched"]),
        ("Offers accepted", _pct(m["offer_acceptance"]), "", ""),
        ("Follow-ups done of those due", _pct(m["follow_up_completion"]), "", ""),
        ("Consult notes acknowledged", _pct(m["notes_acknowledged"]), "", ""),
        ("Usefulness, mean of 1-5", _num(m["usefulness"]), "", ""),
        ("Advice changed management", _pct(m["changed_management"]), "", ""),
        ("Local attendees per round held", _num(m["round_local_attendance"]), "", ""),
    ]  # fmt: skip


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def plain_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r) for r in [header, *rows])


WHAT_IF_ROWS = [
    ("Cases", "cases", _num),
    ("First response, median (h)", "first_response_h", _num),
    ("Signed note, median (h)", "signed_h", _num),
    ("Answered within 72 h", "within_72h", _pct),
    ("Answered within deadline", "within_sla", _pct),
    ("Unmatched", "unmatched_share", _pct),
    ("Offers accepted", "offer_acceptance", _pct),
]


def what_if_table(
    columns: dict[str, dict[str, Any]],
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    header = ("Measure", *columns)
    rows = [(label, *(f(m.get(key)) for m in columns.values())) for label, key, f in WHAT_IF_ROWS]
    return header, rows


def cost_rows(run: dict[str, Any], top: int = 12) -> list[tuple[str, ...]]:
    routes = run["server"].get("routes", {})
    client = run.get("client_p99_ms", {})
    rows = []
    for route, r in sorted(routes.items(), key=lambda kv: -kv[1]["requests"])[:top]:
        method, path = route.split(" ", 1)
        short = f"{method} {path.removeprefix('/api/v1')}"
        rows.append((short, str(r["requests"]), _num(r["p99_ms_at_most"]),
                     _num(_client_p99(client, method, path))))  # fmt: skip
    return rows


def _client_p99(client: dict[str, float], method: str, path: str) -> float | None:
    import re

    shape = re.sub(r"\{[^}]+\}", "{}", path.removeprefix("/api/v1"))
    for k, v in client.items():
        m, p = k.split(" ", 1)
        if m == method and re.sub(r"\{[^}]+\}", "{}", p) == shape:
            return v
    return None


def charts(out: Path, run: dict[str, Any], columns: dict[str, dict[str, Any]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    cases = run["cases"]
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=90)
    bins = [0.1 * 1.35**k for k in range(30)]
    for key, label in [
        ("allocation_h", "first offer"),
        ("accept_h", "accepted"),
        ("first_response_h", "first specialist message"),
        ("signed_h", "consult note signed"),
    ]:
        vals = [max(c[key], 0.1) for c in cases if c[key] is not None]
        if vals:
            ax.hist(
                vals, bins=bins, histtype="step", linewidth=1.6, label=f"{label} (n={len(vals)})"
            )
    ax.set_xscale("log")
    ax.axvline(5, color="grey", linestyle=":", linewidth=1)
    ax.axvline(72, color="grey", linestyle="--", linewidth=1)
    ax.text(5, ax.get_ylim()[1] * 0.9, " MSF 5 h", fontsize=8, color="grey")
    ax.text(72, ax.get_ylim()[1] * 0.9, " 72 h", fontsize=8, color="grey")
    ax.set_xlabel("hours after submission (log scale)")
    ax.set_ylabel("cases")
    ax.set_title("How long each step took (server timestamps)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "distributions.png")
    plt.close(fig)
    made.append("distributions.png")

    weekly = run["weekly"]
    weeks = [w["week"] for w in weekly]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4.4), dpi=80, sharex=True)
    top.bar(weeks, [w["cases"] for w in weekly], color="#c9d7e8", label="cases submitted")
    top.set_ylabel("cases")
    share = top.twinx()
    r72 = [None if w["within_72h"] is None else 100 * w["within_72h"] for w in weekly]
    share.plot(weeks, r72, color="#2a8a4a", marker=".", label="% answered within 72 h")
    share.axhline(70, color="#2a8a4a", linestyle=":", linewidth=1, label="Swinfen ~70%")
    share.set_ylim(0, 105)
    share.set_ylabel("%")
    h1, l1 = top.get_legend_handles_labels()
    h2, l2 = share.get_legend_handles_labels()
    share.legend(h1 + h2, l1 + l2, fontsize=7, loc="lower left")
    fr = [w["first_response_median_h"] for w in weekly]
    bottom.plot(weeks, fr, color="#d0602a", marker=".", label="median hours to first response")
    bottom.axhline(5, color="#d0602a", linestyle=":", linewidth=1, label="MSF ~5 h")
    bottom.set_ylim(bottom=0)
    bottom.set_ylabel("hours")
    bottom.set_xlabel("week of the programme")
    bottom.legend(fontsize=7, loc="upper left")
    top.set_title("Week by week, from GET /metrics/quality", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "weekly.png")
    plt.close(fig)
    made.append("weekly.png")

    if len(columns) > 1:
        fig, ax = plt.subplots(figsize=(7, 3.2), dpi=90)
        keys = [("within_72h", "answered within 72 h"), ("unmatched_share", "unmatched"),
                ("offer_acceptance", "offers accepted")]  # fmt: skip
        width = 0.8 / len(columns)
        for i, (name, m) in enumerate(columns.items()):
            vals = [100 * (m.get(k) or 0) for k, _ in keys]
            ax.bar([j + i * width for j in range(len(keys))], vals, width, label=name)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))], [k[1] for k in keys])
        ax.set_ylabel("%")
        ax.set_ylim(0, 100)
        ax.legend(fontsize=7)
        ax.set_title("What if (same weeks, same seed)", fontsize=10)
        fig.tight_layout()
        fig.savefig(out / "what-if.png")
        plt.close(fig)
        made.append("what-if.png")
    return made


def assumptions(p: dict[str, Any]) -> str:
    def pc(key: str) -> str:
        return f"{100 * p[key]:.0f}%"

    def rng(key: str) -> str:
        return f"{p[key][0]}-{p[key][1]}"

    mix = ", ".join(f"{k} {100 * v:.0f}%" for k, v in p["urgency_mix"].items())
    h0, h1 = p["clinic_hours"]
    lines = [
        "- Network: 11 facilities in 11 countries and time zones (Salta, Kisumu, Jumla, "
        "Gonaïves, Juba, Kinshasa, Kabul, Aden, Cox's Bazar, Freetown, N'Djamena), each with "
        f"its languages and resource tags, two clinicians each; {p['specialists']} volunteer "
        "specialists in 17 time zones (half in Europe), every specialty covered by at least "
        "three (when the pool allows), a quarter with a second specialty, English plus their "
        f"region's languages; {6 if p['interpreters'] else 0} interpreters; four weekly rounds "
        "(Tuesdays 14:00 local) with the host's clinicians and two specialists as participants.",
        f"- Specialists: {rng('window_days')} weekly windows of {rng('window_hours')} h in their "
        f"own zone, at most {rng('max_active_cases')} active cases, "
        f"{rng('leave_weeks_per_year')} weeks of leave a year in 1-3 week blocks (their "
        "profile's `time_off`), all verified and accepting.",
        f"- Cases: Poisson, {p['cases_per_week']:g} a week, in clinic hours ({h0}:00-{h1}:00 "
        f"Monday-Friday, Saturday mornings, local); urgency {mix}; specialties weighted "
        f"(dermatology, internal medicine, pediatrics most); {pc('attachment_rate')} carry a "
        "photo; an interpreter is asked for where the facility speaks no English.",
        "- Offers: the server's own auto-offer and expiry (two specialists at once for routine "
        "and urgent cases, three for emergencies; offers lapse after 12 h, 2 h, 10 min). A "
        "specialist the server emailed opens the offer after a lognormal delay: median "
        f"{p['email_seen_in_window_median']:g} min within their window; outside it "
        f"{pc('email_seen_off_hours_share')} look within a median "
        f"{p['email_seen_off_hours_median']:g} min, the rest at their next window + a median "
        f"{p['next_window_delay_median']:g} min; emergencies: {pc('emergency_any_hour_share')} "
        f"within a median {p['emergency_seen_median']:g} min at any hour. Not emailed: they "
        f"find it when they next look at their inbox (in {pc('inbox_check_share')} of their "
        f"windows). Of the offers seen, {pc('no_answer_rate')} are left unanswered and "
        f"{pc('decline_rate')} declined ({pc('decline_without_interpreter')} when the offer "
        f"needs an interpreter and the network has none). Lognormal sigma {p['sigma']}.",
        f"- After accepting: a first message a median {p['first_message_median']:g} min later "
        "(in their window); the clinician answers (median "
        f"{p['clinician_reply_median']:g} min, clinic hours); the interpreter joins where "
        "needed; the consult note is signed a median "
        f"{p['note_after_first_message_median']:g} min after the first message (1 h for "
        f"emergencies); {pc('acknowledge_rate')} acknowledged; {pc('feedback_rate')} get "
        f"feedback (usefulness 1-5 weighted {list(p['usefulness_weights'])}, changed "
        f"management {pc('changed_management_rate')}); {pc('follow_up_rate')} plan a "
        f"follow-up in {rng('follow_up_days')} days: {pc('follow_up_kept')} kept, "
        f"{pc('follow_up_missed')} recorded missed, the rest left open (overdue).",
        "- Rounds: the two most recently answered cases of the host facility go on the "
        "agenda and get a recommendation; each participant attends with probability "
        f"{p['round_attendance']}.",
        "- The server's worker: matching's passes run at every step that needs them, every "
        "other job once a programme day, except the daily digest and webhook delivery (no "
        "measure depends on them; no partner app subscribes) and the measures' catch-up "
        "(GET /metrics/quality catches up when asked).",
        f"- Seed {p['seed']}: the same seed gives the same network, cases and behaviour.",
    ]
    return "\n".join(lines)


def write(out: Path, base: dict[str, Any], what_ifs: dict[str, dict[str, Any]],
          snapshot_weeks: int) -> tuple[str, list[str]]:  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    m = measures(base)
    rows = comparison_rows(m)
    header = ("Measure", "This service (simulated)", "MSF", "Swinfen")
    columns: dict[str, dict[str, Any]] = {}
    if what_ifs and "snapshot" in base:
        snap = {
            **base,
            "quality": base["snapshot"],
            "params": {**base["params"], "weeks": snapshot_weeks},
        }
        columns[f"baseline, weeks 1-{snapshot_weeks}"] = measures(snap)
        for name, run in what_ifs.items():
            columns[name] = measures(run)
    made = charts(out, base, columns)
    srv = base["server"]
    text = [
        "# A simulated programme year",
        "",
        f"Database {srv.get('database')}, {srv.get('processes', 1)} API process(es); "
        f"{base['params']['weeks']} weeks, seed {base['params']['seed']}; "
        f"set-up {base.get('setup_s', 'n/a')} s, the run {base.get('run_s', 'n/a')} s "
        "of real time.",
        "",
        "## Beside the published figures",
        "",
        table(rows, header),
        "",
        "[a] from the API's answers (offers' and notes' timestamps); every other figure is "
        "GET /metrics/quality's. MSF and Swinfen figures as quoted in issue 18.",
        "",
    ]
    if columns:
        h, r = what_if_table(columns)
        text += ["## What if", "", table(r, h), ""]
    text += [
        "## The server's cost",
        "",
        f"Requests served: {srv.get('requests', 'n/a')} (all processes, set-up included); "
        f"database {srv.get('db_bytes', 0) / 1e6:.1f} MB; worker passes "
        f"{base.get('worker', {}).get('passes', 'n/a')} taking "
        f"{base.get('worker', {}).get('seconds', 'n/a')} s. CPU time during the run: "
        f"{base.get('cpu_s', {}).get('server', 'n/a')} s in the API process(es), "
        f"{base.get('cpu_s', {}).get('simulation_and_worker', 'n/a')} s in the simulation "
        "and the worker it runs.",
        "",
        table(
            cost_rows(base),
            ("Route", "Requests", "p99 ms (server, bucket bound)", "p99 ms (client)"),
        ),  # fmt: skip
        "",
        "## Assumptions",
        "",
        assumptions(base["params"]),
        "",
        "## Charts",
        "",
        *[f"![{c}]({c})" for c in made],
        "",
    ]
    if base.get("errors"):
        text += ["## Requests that failed", "", *[f"- {e}" for e in base["errors"]], ""]
    (out / "report.md").write_text("\n".join(text))
    (out / "results.json").write_text(
        json.dumps({"baseline": base, "what_ifs": what_ifs}, indent=1, default=str)
    )
    printed = plain_table(rows, header)
    if columns:
        h, r = what_if_table(columns)
        printed += "\n\n" + plain_table(r, h)
    return printed, made
