//! The derivation document of one claim, the index, and the README's verdict table.
//! GitHub-flavoured markdown with `$…$` and `$$…$$` math.

use crate::claim::{ArgStep, Counting, Outcome, Report, Status};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn outcome_name(o: &Outcome) -> String {
    match o.status() {
        Status::Holds => format!("holds: {}", o.detail()),
        Status::Fails => format!("**fails**: {}", o.detail()),
        Status::NotRun => format!("not run: {}", o.detail()),
    }
}

/// The derivation document of one claim.
pub fn derivation(r: &Report) -> String {
    let c = &r.claim;
    let f = &r.findings;
    let mut s = String::new();
    s.push_str(&format!("# {} — {}\n\n", c.label, c.title));
    s.push_str(&format!("`{}` · family `{}`\n\n", c.id, c.family));
    s.push_str(&format!("**Verdict: {}.**\n\n{}\n\n", r.verdict, r.summary));
    s.push_str(&format!(
        "Settings: {} bits, {} cases for the main property (others scaled), base seed `{:#x}`, fully symbolic matrices up to d = {}.\n\n",
        r.config.prec, r.config.cases, r.config.seed, r.config.sym_d_max
    ));
    s.push_str("## Source\n\n");
    s.push_str(&format!(
        "> {}\n\n— *{}* (`../shared/notes.md`)\n\n",
        c.quote, c.place
    ));
    s.push_str("## Statement as written\n\n");
    s.push_str(&format!("$$\n{}\n$$\n\n", c.statement));
    if !f.derivation.is_empty() {
        s.push_str("## Derivation\n\n");
        for (i, step) in f.derivation.iter().enumerate() {
            s.push_str(&format!("{}. {}\n", i + 1, step.text));
            if let Some(tex) = &step.tex {
                s.push_str(&format!(
                    "\n   $$\n   {}\n   $$\n",
                    tex.replace('\n', "\n   ")
                ));
            }
            s.push('\n');
        }
    }
    s.push_str("## Evidence\n\n");
    for p in &f.propositions {
        let status = if p.fails() {
            "fails"
        } else if p.holds() {
            "holds"
        } else {
            "not run"
        };
        s.push_str(&format!(
            "### {} ({}) — {}\n\n",
            p.name,
            p.role.name(),
            status
        ));
        s.push_str(&format!("$$\n{}\n$$\n\n", p.statement));
        s.push_str("| check | method | outcome | refutes |\n|---|---|---|---|\n");
        for ch in &p.checks {
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&ch.name),
                cell(&ch.method.to_string()),
                cell(&outcome_name(&ch.outcome)),
                cell(
                    &ch.refutes
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            ));
        }
        s.push('\n');
        if let Some(a) = &p.argument {
            s.push_str(&format!(
                "**Argument, {}** ({}):\n\n",
                a.conclusion,
                if a.holds() {
                    "every checked step holds"
                } else {
                    "a checked step **fails**"
                }
            ));
            for step in &a.steps {
                match step {
                    ArgStep::Checked {
                        text,
                        check,
                        method,
                        holds,
                    } => s.push_str(&format!(
                        "- {text} — *checked* by \"{check}\" ({}){}\n",
                        method
                            .as_ref()
                            .map_or("no such check".to_string(), |m| m.to_string()),
                        if *holds { "" } else { ": **does not hold**" }
                    )),
                    ArgStep::Cited { text, lemma } => s.push_str(&format!(
                        "- {text} — *cited*: {} ({})\n",
                        lemma.name, lemma.source
                    )),
                }
            }
            s.push('\n');
        }
    }
    s.push_str("## Mutants\n\nPlausible wrong forms, each run through the same checks as the form it mutates; each must be refuted by a check that holds on that form.\n\n");
    s.push_str("| mutant | of | what is wrong | refuted by |\n|---|---|---|---|\n");
    for m in &f.mutants {
        let by = match (&m.counting, m.refuting_check()) {
            (Counting::Counts, Some(ch)) => format!("{}: {}", ch.name, ch.outcome.detail()),
            (Counting::Void(why), _) => format!("**does not count**: {why}"),
            (Counting::NotRun(why), _) => format!("**not run**: {why}"),
            _ => "**survived**".to_string(),
        };
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            m.name,
            cell(&m.of),
            cell(&m.description),
            cell(&by)
        ));
    }
    s.push('\n');
    for t in &f.tables {
        s.push_str(&format!("## {}\n\n", t.caption));
        s.push_str(&format!(
            "| {} |\n",
            t.header
                .iter()
                .map(|h| cell(h))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
        s.push_str(&format!("|{}\n", "---|".repeat(t.header.len())));
        for row in &t.rows {
            s.push_str(&format!(
                "| {} |\n",
                row.iter().map(|x| cell(x)).collect::<Vec<_>>().join(" | ")
            ));
        }
        s.push('\n');
    }
    for fig in &f.figures {
        s.push_str(&format!(
            "## Figure\n\n![{}]({})\n\n*{}*\n\n",
            cell(&fig.caption),
            fig.file,
            fig.caption
        ));
    }
    s.push_str("---\n*Generated by `sslproof derive`; do not edit by hand.*\n");
    s
}

/// The index of all derivation documents.
pub fn index(reports: &[Report]) -> String {
    let mut s = String::from(
        "# Derivations\n\nOne document per claim of `../shared/claims.md`, generated by `sslproof derive`.\n\n",
    );
    s.push_str("| label | claim | verdict | reason |\n|---|---|---|---|\n");
    for r in reports {
        s.push_str(&format!(
            "| {} | [{}]({}.md) | {} | {} |\n",
            r.claim.label,
            cell(r.claim.title),
            r.claim.id,
            cell(&r.verdict.to_string()),
            cell(&r.summary)
        ));
    }
    s
}

/// The README's verdict table: label, title, verdict.
pub fn verdict_table(reports: &[Report]) -> String {
    let mut s = String::from("| label | claim | verdict |\n|---|---|---|\n");
    for r in reports {
        s.push_str(&format!(
            "| {} | [{}](docs/derivations/{}.md) | {} |\n",
            r.claim.label,
            cell(r.claim.title),
            r.claim.id,
            cell(&r.verdict.to_string())
        ));
    }
    s
}
