//! The readable `plan` report, wrapped at 120 columns like `analyze`'s.

use super::{Fate, ItlSource, PlanReport, Population, Sequence, Verdict, cluster::ItlSigner};

/// Lines are wrapped at this many columns.
const WIDTH: usize = 120;

/// Appends `text` wrapped: the first line after `first`, the others indented by `indent`.
fn wrapped(out: &mut String, first: &str, indent: usize, text: &str) {
    let pad = " ".repeat(indent);
    let options = textwrap::Options::new(WIDTH)
        .initial_indent(first)
        .subsequent_indent(&pad)
        .break_words(true)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    out.push_str(&textwrap::fill(text, options));
    out.push('\n');
}

fn fate(out: &mut String, indent: usize, what: &str, f: &Fate) {
    let via = f.via().map(|v| format!(" ({v})")).unwrap_or_default();
    let first = format!("{}{what:<11} ", " ".repeat(indent));
    wrapped(
        out,
        &first,
        first.len(),
        &format!("{}{via}: {}", f.acceptance.as_str(), f.explanation),
    );
}

fn sequence(out: &mut String, s: &Sequence) {
    for step in &s.steps {
        let mark = if step.stranded { "FAILS" } else { "ok" };
        wrapped(
            out,
            &format!("  {}. [{mark}] ", step.number),
            7,
            &step.action,
        );
        if let Some(r) = &step.restart {
            wrapped(out, "       then ", 9, r);
        }
        for c in &step.caveats {
            wrapped(out, "       caveat: ", 9, c);
        }
        fate(out, 7, "next ITL:", &step.itl);
        fate(out, 7, "config:", &step.config);
        if let Some(r) = step.recovery {
            wrapped(out, "       phones left stranded: ", 9, r.text());
        }
        if let Some(w) = &step.wait {
            wrapped(out, "       then ", 9, w);
        }
    }
}

fn population(out: &mut String, p: &Population) {
    wrapped(
        out,
        "  ",
        4,
        &format!("{} ({})", p.id.as_str(), p.description),
    );
    fate(out, 4, "ITL:", &p.itl);
    fate(out, 4, "config:", &p.config);
    if let Some(r) = p.recovery {
        wrapped(out, "    needs: ", 6, r.text());
    }
}

/// The report as text.
pub fn render(r: &PlanReport) -> String {
    let mut out = String::new();
    let from = match r.phone_itl.source {
        ItlSource::File => "",
        ItlSource::ShowItl => " (`show itl` text)",
    };
    let sha1 = r.phone_itl.sha1.as_deref().unwrap_or("not printed");
    let signer = match r.phone_itl.signer {
        ItlSigner::CallManager => "CallManager (CUCM before 12.0)",
        ItlSigner::ItlRecovery => "ITLRecovery (CUCM 12.0 and later)",
    };
    wrapped(
        &mut out,
        "",
        2,
        &format!(
            "Phones holding {}{from} (sha1 {sha1}), ITL signed by {signer}:",
            r.phone_itl.file
        ),
    );
    for c in &r.phone_itl.certificates {
        wrapped(&mut out, "  ", 4, c);
    }
    if let Some(ctl) = &r.phone_ctl {
        wrapped(&mut out, "", 2, &format!("and the CTL {ctl} (mixed mode)"));
    }
    wrapped(&mut out, "Change: ", 2, &r.change.join("; "));
    out.push('\n');
    wrapped(
        &mut out,
        "All at once, as requested: ",
        2,
        &verdict(&r.as_requested),
    );
    sequence(&mut out, &r.as_requested);
    match &r.safe_order {
        // Also when the requested change is safe but not the whole procedure (mixed mode: the
        // CTL client after it, statement 30).
        Some(s) if !same_steps(s, &r.as_requested) => {
            out.push('\n');
            wrapped(&mut out, "Safe order: ", 2, &verdict(s));
            sequence(&mut out, s);
        }
        Some(_) => {}
        None => {
            out.push('\n');
            wrapped(
                &mut out,
                "",
                2,
                "Safe order: none of the documented orders keeps the phones trusting the cluster; plan a manual ITL deletion (or keep the old keys).",
            );
        }
    }
    out.push_str("\nPhone populations afterwards:\n");
    for p in &r.populations {
        population(&mut out, p);
    }
    out.push_str("\nAssumed:\n");
    for a in &r.assumptions {
        wrapped(&mut out, "  - ", 4, a);
    }
    if !r.manual_deletion_steps.is_empty() {
        out.push_str("\nSteps that would leave phones needing a manual ITL deletion:\n");
        for s in &r.manual_deletion_steps {
            wrapped(&mut out, "  - ", 4, s);
        }
    }
    out.push_str("\nNot modelled (the prediction does not account for):\n");
    for n in &r.not_modelled {
        wrapped(&mut out, "  - ", 4, n);
    }
    out
}

/// The same steps (the safe order is the requested change itself when nothing does better).
fn same_steps(a: &Sequence, b: &Sequence) -> bool {
    a.steps
        .iter()
        .map(|s| &s.action)
        .eq(b.steps.iter().map(|s| &s.action))
}

/// A sequence's verdict in words.
fn verdict(s: &Sequence) -> String {
    match &s.verdict {
        Verdict::Safe => "safe for phones that are online".to_owned(),
        Verdict::SafeOnlyIfGroupHolds {
            unchanged,
            stranded_alone,
        } => format!(
            "safe only for phones whose CallManager group holds an unchanged node ({}); phones whose group holds only {} would reject the cluster's files (statement 31)",
            unchanged.join(", "),
            stranded_alone.join(", ")
        ),
        Verdict::NotSafe => "NOT SAFE: phones would reject the cluster's files".to_owned(),
    }
}
