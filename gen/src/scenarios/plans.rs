//! Predictions of `itlscope plan` for the scenarios that are a certificate change: from the
//! ITL the phone held before (the scenario's side file) and the change, what `plan` says the
//! phone does with the next ITL and config, which must be what `analyze` then says about the
//! capture of that change (test `plan_scenarios`).

/// Which step of the plan a row predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStep {
    /// Step `n` (1-based) of the change made all at once, as requested.
    AsRequested(usize),
    /// Step `n` of the safe order `plan` proposes.
    SafeOrder(usize),
}

/// One prediction.
#[derive(Debug, Clone)]
pub struct PlanRow {
    /// The capture of the change.
    pub capture: &'static str,
    /// `itlscope plan` arguments (from the repository root).
    pub args: &'static str,
    /// The step predicted.
    pub step: PlanStep,
    /// The next ITL: `accepted`, `rejected` or `undetermined`, with the route after a space.
    pub itl: &'static str,
    /// The next config, the same way; `None` when the capture has no signed config to judge.
    pub config: Option<&'static str>,
    /// What `analyze` is given besides `--phone-itl`: a TVS that vouches answers inside
    /// encryption, so "accepted via TVS" needs the phone's own word (its Status Messages).
    pub analyze: &'static str,
}

/// The rows, in README order.
pub fn rows() -> Vec<PlanRow> {
    vec![
        PlanRow {
            capture: "cm-regenerated-tvs-ok.pcap",
            args: "captures/cm-regenerated-tvs-ok.phone-itl.tlv --regenerate callmanager",
            step: PlanStep::AsRequested(1),
            itl: "accepted via-tvs",
            config: Some("accepted signer-in-itl"),
            analyze: "--evidence captures/cm-regenerated-tvs-ok.status-messages.txt",
        },
        PlanRow {
            capture: "cm-and-tvs-regenerated.pcap",
            args: "captures/cm-and-tvs-regenerated.phone-itl.tlv --regenerate callmanager --regenerate tvs",
            step: PlanStep::AsRequested(1),
            itl: "rejected",
            config: Some("rejected"),
            analyze: "",
        },
        PlanRow {
            capture: "hostname-change-single-node.pcap",
            args: "captures/hostname-change-single-node.phone-itl.tlv --hostname cucm-a.example.com",
            step: PlanStep::AsRequested(1),
            itl: "rejected",
            config: Some("rejected"),
            analyze: "",
        },
        PlanRow {
            capture: "rollback-itl.pcap",
            args: "captures/rollback-itl.phone-itl.tlv --hostname cucm-a.example.com",
            step: PlanStep::SafeOrder(1),
            itl: "accepted signer-in-itl",
            config: None,
            analyze: "",
        },
        PlanRow {
            capture: "rebuilt-without-key.pcap",
            args: "captures/rebuilt-without-key.phone-itl.tlv --regenerate callmanager --regenerate tvs --regenerate itlrecovery",
            step: PlanStep::AsRequested(1),
            itl: "rejected",
            config: Some("rejected"),
            analyze: "",
        },
        PlanRow {
            capture: "moved-cluster-bulk-imported.pcap",
            args: "captures/moved-cluster-bulk-imported.phone-itl.tlv --move-to captures/moved-cluster-bulk-imported.target-itl.tlv",
            step: PlanStep::SafeOrder(2),
            itl: "accepted via-tvs",
            config: Some("accepted signer-in-itl"),
            analyze: "--phone-status ok",
        },
    ]
}

/// A prediction the capture of the change cannot confirm, and why.
#[derive(Debug, Clone)]
pub struct Unconfirmed {
    /// The capture.
    pub capture: &'static str,
    /// `itlscope plan` arguments.
    pub args: &'static str,
    /// The step predicted.
    pub step: PlanStep,
    /// What `plan` predicts for the next ITL.
    pub itl: &'static str,
    /// Why `analyze` cannot tell from the capture (a word its explanation contains).
    pub why: &'static str,
    /// The same in words, for the README.
    pub because: &'static str,
}

/// Predictions that differ from what the capture can show, in README order.
pub fn unconfirmed() -> Vec<Unconfirmed> {
    vec![Unconfirmed {
        capture: "moved-cluster-unprepared.pcap",
        args: "captures/moved-cluster-unprepared.phone-itl.tlv --move-to captures/moved-cluster-unprepared.target-itl.tlv",
        step: PlanStep::AsRequested(1),
        itl: "rejected",
        why: "encrypted",
        because: "the old TVS completes its handshake with a certificate the phone trusts, but whether it knows B's signer is inside the encrypted answer: `analyze` leaves the trust path undetermined and says so (the phone's failure may be the config's); `plan` knows A's TVS was never given B's certificates",
    }]
}

/// The README section.
pub fn readme_section() -> String {
    let mut s = String::from(
        "\n## Predictions of `itlscope plan`\n\n\
         Scenarios that are a certificate change, planned beforehand from the ITL the phone\n\
         held (`itlscope plan ARGS`): what `plan` predicts the phone does with the next ITL and\n\
         signed config at that step, which is what `analyze` says about the capture (its trust\n\
         path, with `--phone-itl` the same side file and what the last column adds: a TVS that\n\
         vouches answers inside encryption, so \"via TVS\" needs the phone's own word; test\n\
         `plan_scenarios`).\n\n\
         | capture | `itlscope plan` arguments | step | next ITL | config | `analyze` also given |\n\
         |---|---|---|---|---|---|\n",
    );
    let step_text = |step: PlanStep| match step {
        PlanStep::AsRequested(n) => format!("as requested, step {n}"),
        PlanStep::SafeOrder(n) => format!("safe order, step {n}"),
    };
    for r in rows() {
        let step = step_text(r.step);
        let analyze = if r.analyze.is_empty() {
            String::from("-")
        } else {
            format!("`{}`", r.analyze)
        };
        s.push_str(&format!(
            "| `{}` | `{}` | {step} | {} | {} | {analyze} |\n",
            r.capture,
            r.args,
            r.itl,
            r.config.unwrap_or("(no signed config in the capture)")
        ));
    }
    s.push_str(
        "\nPredictions the capture cannot confirm (the test checks the prediction and that\n\
         `analyze` names why it cannot tell):\n\n\
         | capture | `itlscope plan` arguments | step | next ITL | why the capture cannot show it |\n\
         |---|---|---|---|---|\n",
    );
    for u in unconfirmed() {
        s.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            u.capture,
            u.args,
            step_text(u.step),
            u.itl,
            u.because
        ));
    }
    s
}
