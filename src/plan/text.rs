//! The readable `plan` report.

use super::{Fate, ItlSource, PlanReport, Population, Sequence};
use std::fmt::Write as _;

fn fate(out: &mut String, indent: &str, what: &str, f: &Fate) {
    let via = f.via().map(|v| format!(" ({v})")).unwrap_or_default();
    let _ = writeln!(
        out,
        "{indent}{what:<11} {}{via}: {}",
        f.acceptance.as_str(),
        f.explanation
    );
}

fn sequence(out: &mut String, s: &Sequence) {
    for step in &s.steps {
        let mark = if step.stranded { "FAILS" } else { "ok" };
        let _ = writeln!(out, "  {}. [{mark}] {}", step.number, step.action);
        fate(out, "       ", "next ITL:", &step.itl);
        fate(out, "       ", "config:", &step.config);
        if let Some(r) = step.recovery {
            let _ = writeln!(out, "       phones left stranded: {}", r.text());
        }
        if let Some(w) = &step.wait {
            let _ = writeln!(out, "       then {w}");
        }
    }
}

fn population(out: &mut String, p: &Population) {
    let _ = writeln!(out, "  {} ({})", p.id.as_str(), p.description);
    fate(out, "    ", "ITL:", &p.itl);
    fate(out, "    ", "config:", &p.config);
    if let Some(r) = p.recovery {
        let _ = writeln!(out, "    needs: {}", r.text());
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
    let _ = writeln!(
        out,
        "Phones holding {}{from} (sha1 {sha1}), ITL signed by {}:",
        r.phone_itl.file,
        match r.phone_itl.signer {
            super::cluster::ItlSigner::CallManager => "CallManager (CUCM before 12.0)",
            super::cluster::ItlSigner::ItlRecovery => "ITLRecovery (CUCM 12.0 and later)",
        }
    );
    for c in &r.phone_itl.certificates {
        let _ = writeln!(out, "  {c}");
    }
    let _ = writeln!(out, "Change: {}", r.change.join("; "));
    let _ = writeln!(out);
    let verdict = if r.as_requested.safe {
        "safe for phones that are online"
    } else {
        "NOT SAFE: phones would reject the cluster's files"
    };
    let _ = writeln!(out, "All at once, as requested: {verdict}");
    sequence(&mut out, &r.as_requested);
    let _ = writeln!(out);
    match &r.safe_order {
        Some(s) if !r.as_requested.safe => {
            let _ = writeln!(out, "Safe order:");
            sequence(&mut out, s);
        }
        Some(_) => {}
        None => {
            let _ = writeln!(
                out,
                "Safe order: none of the documented orders keeps the phones trusting the cluster; plan a manual ITL deletion (or keep the old keys)."
            );
        }
    }
    if r.safe_order.as_ref().is_some_and(|_| !r.as_requested.safe) {
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "Phone populations afterwards:");
    for p in &r.populations {
        population(&mut out, p);
    }
    if !r.manual_deletion_steps.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Steps that would leave phones needing a manual ITL deletion:"
        );
        for s in &r.manual_deletion_steps {
            let _ = writeln!(out, "  - {s}");
        }
    }
    out
}
