//! The `itlscope` command line: a thin layer over the library.

mod cli;

use clap::{CommandFactory, Parser, ValueEnum as _};
use cli::{
    AnalyzeArgs, CaptureArgs, Cli, ColorWhen, Command, EXIT_TRUST_NOT_BELIEVED, EXIT_UNREADABLE,
    Format,
};
use itlscope::diagnosis::inventory::Inventory;
use itlscope::diagnosis::trust::CiscoBackend;
use itlscope::diagnosis::{
    KeyBackup, Limits, OperatorFacts, PhoneItlFile, PhoneStatus, Prepared, ScopedInputs,
};
use itlscope::evidence::Evidence;
use itlscope::pipeline::{self, PipelineOptions};
use itlscope::progress::Progress;
use itlscope::report::text::TextOptions;
use itlscope::{cisco, report};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Largest file `show` and `verify` read: trust lists and signed configs are kilobytes,
/// firmware images a few megabytes.
const MAX_CISCO_FILE: u64 = 64 << 20;

/// Prints `itlscope: FILE: what` and gives exit status `code`.
fn fail_with(code: u8, path: &Path, what: impl std::fmt::Display) -> ExitCode {
    eprintln!("itlscope: {}: {what}", path.display());
    ExitCode::from(code)
}

/// Prints `itlscope: FILE: what` and gives exit status 1.
fn fail(path: &Path, what: impl std::fmt::Display) -> ExitCode {
    fail_with(1, path, what)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("itlscope: stdout: {e}");
            ExitCode::from(1)
        }
    }
}

/// Reads a trust list or signed file (`-`: standard input), at most [`MAX_CISCO_FILE`] bytes.
fn read_cisco_file(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let limit = MAX_CISCO_FILE + 1;
    let read = if path.as_os_str() == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_CISCO_FILE {
        return Err(format!(
            "larger than {} MiB: not a trust list or signed file",
            MAX_CISCO_FILE >> 20
        ));
    }
    Ok(bytes)
}

/// Parses a trust list or signed file, or says what the bytes are instead (a capture, text).
fn parse_cisco(bytes: &[u8]) -> Result<cisco::ParsedFile<'_>, String> {
    if let Some(what) = report::trustlist::not_a_cisco_file(bytes) {
        return Err(what.to_owned());
    }
    cisco::parse_any(bytes).map_err(|e| e.to_string())
}

fn show(file: &Path, json: bool, payload_out: Option<&Path>, color: bool) -> ExitCode {
    let bytes = match read_cisco_file(file) {
        Ok(b) => b,
        Err(e) => return fail(file, e),
    };
    if let Some(what) = report::trustlist::not_a_cisco_file(&bytes) {
        return fail(file, what);
    }
    let parsed = match cisco::parse_any(&bytes) {
        Ok(p) => p,
        Err(e) => {
            // Still print what could be read: the hashes match what the phone shows.
            if json {
                let damaged = report::trustlist::damaged_json(&bytes, &e);
                if let Ok(mut text) = serde_json::to_string_pretty(&damaged) {
                    text.push('\n');
                    let _ = emit(&text);
                }
            } else {
                let _ = emit(&report::trustlist::damaged_text_with(&bytes, &e, color));
            }
            return fail(file, e);
        }
    };
    if let Some(out) = payload_out {
        let cisco::ParsedFile::Signed(signed) = &parsed else {
            return fail(
                file,
                "--payload applies to signed files; this is a trust list",
            );
        };
        if let Err(e) = std::fs::write(out, signed.payload) {
            return fail(out, e);
        }
    }
    if json {
        match serde_json::to_string_pretty(&report::trustlist::show_json(&parsed)) {
            Ok(mut text) => {
                text.push('\n');
                emit(&text)
            }
            Err(e) => fail(file, e),
        }
    } else {
        emit(&report::trustlist::show_text_with(&parsed, color))
    }
}

fn verify(file: &Path, trust: &Path) -> ExitCode {
    let unreadable = |path: &Path, e: String| fail_with(EXIT_UNREADABLE, path, e);
    let file_bytes = match read_cisco_file(file) {
        Ok(b) => b,
        Err(e) => return unreadable(file, e),
    };
    let trust_bytes = match read_cisco_file(trust) {
        Ok(b) => b,
        Err(e) => return unreadable(trust, e),
    };
    let parsed = match parse_cisco(&file_bytes) {
        Ok(p) => p,
        Err(e) => return unreadable(file, e),
    };
    if let Some(what) = report::trustlist::not_a_cisco_file(&trust_bytes) {
        return unreadable(trust, what.to_owned());
    }
    let trust_list = match cisco::trustlist::parse_trust_list(&trust_bytes) {
        Ok(t) => t,
        Err(e) => return unreadable(trust, e.to_string()),
    };
    // Issue 18: a trust list whose own signature fails is shown, never believed: whatever it
    // would say about FILE rests on records nobody vouches for.
    if let cisco::model::SignatureCheck::Invalid { reason } =
        itlscope::trust::own_signature(&trust_list, &itlscope::trust::RsaVerifier)
    {
        let line = format!(
            "{}: cannot tell: the trust list given as --trust fails its own signature ({reason}); {} is not believed, give the trust list the phone really holds\n",
            file.display(),
            trust.display()
        );
        let status = emit(&line);
        return if status == ExitCode::SUCCESS {
            ExitCode::from(EXIT_TRUST_NOT_BELIEVED)
        } else {
            status
        };
    }
    let (trusted, line) = report::trustlist::verify_verdict(&parsed, &trust_list);
    let status = emit(&format!("{}: {line}\n", file.display()));
    if trusted { status } else { ExitCode::from(1) }
}

/// A trust list given to `plan`: the file itself, or CUCM `show itl` / `show ctl` text.
enum PlanList {
    File(Vec<u8>),
    Text(itlscope::plan::show_itl::ShowItl),
}

impl PlanList {
    /// Reads `path`: a trust list, else `show itl` text, else a clear error.
    fn read(path: &Path) -> Result<PlanList, ExitCode> {
        use itlscope::plan::show_itl;
        let bytes = read_cisco_file(path).map_err(|e| fail(path, e))?;
        let text = std::str::from_utf8(&bytes).ok();
        if let Some(text) = text.filter(|t| show_itl::looks_like(t)) {
            return show_itl::parse(text, &path.display().to_string())
                .map(PlanList::Text)
                .map_err(|e| fail(path, e));
        }
        if let Some(what) = report::trustlist::not_a_cisco_file(&bytes) {
            return Err(fail(path, what));
        }
        Ok(PlanList::File(bytes))
    }

    /// The list, and whether it is an ITL (not a CTL).
    fn list(&self, path: &Path) -> Result<(cisco::model::TrustList<'_>, bool), ExitCode> {
        match self {
            PlanList::File(bytes) => match cisco::parse_any(bytes) {
                Ok(cisco::ParsedFile::TrustList(l)) => {
                    let itl = l.format == cisco::FileFormat::Itl;
                    Ok((l, itl))
                }
                Ok(cisco::ParsedFile::Signed(_)) => Err(fail(
                    path,
                    "is a signed file (a config or firmware .sgn), not a trust list: give an ITL",
                )),
                Err(e) => Err(fail(path, e)),
            },
            PlanList::Text(t) => Ok((t.list.view(), t.kind == "ITL")),
        }
    }
}

/// The change `plan` is asked about, read from the options.
fn plan_changes(args: &cli::PlanArgs) -> Result<Vec<itlscope::plan::Change>, ExitCode> {
    use itlscope::plan::{Change, cluster::CertId, cluster::Cluster};
    let mut changes: Vec<Change> = args.regenerate.clone();
    for (role, path) in &args.replace {
        let cert = read_cisco_file(path).and_then(|b| CertId::from_file_bytes(&b));
        changes.push(Change::Replace(*role, cert.map_err(|e| fail(path, e))?));
    }
    changes.extend(args.hostname.iter().cloned());
    if let Some(path) = &args.move_to {
        let input = PlanList::read(path)?;
        let (list, _) = input.list(path)?;
        if let PlanList::File(_) = input
            && let cisco::model::SignatureCheck::Invalid { reason } =
                itlscope::trust::own_signature(&list, &itlscope::trust::RsaVerifier)
        {
            eprintln!(
                "itlscope: warning: {}: its own signature does not verify ({reason})",
                path.display()
            );
        }
        let cluster = Cluster::from_trust_list(&list, 1).map_err(|e| fail(path, e))?;
        changes.push(Change::MoveTo(Box::new(cluster)));
    }
    Ok(changes)
}

/// `plan`: the prediction for the phones holding PHONE-ITL (docs/plan.md).
fn plan(args: &cli::PlanArgs) -> ExitCode {
    use itlscope::plan::{ItlSource, PhoneItl};
    let input = match PlanList::read(&args.phone_itl) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let held = match input.list(&args.phone_itl) {
        Ok((l, true)) => l,
        Ok((_, false)) => {
            return fail(
                &args.phone_itl,
                "is a CTL, not an ITL: give the ITL the phones hold",
            );
        }
        Err(code) => return code,
    };
    let changes = match plan_changes(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if changes.is_empty() {
        eprintln!(
            "itlscope: plan: no change given: --regenerate ROLE, --replace ROLE=FILE, --hostname HOST or --move-to ITL"
        );
        return ExitCode::from(2);
    }
    if let Err(e) = itlscope::plan::distinct_certificates(&changes) {
        eprintln!("itlscope: plan: {e}");
        return ExitCode::from(2);
    }
    // Mixed mode: the CTL the phones hold, read as PHONE-ITL is.
    let ctl_input = match args.phone_ctl.as_deref().map(PlanList::read).transpose() {
        Ok(i) => i,
        Err(code) => return code,
    };
    let ctl = match (&ctl_input, args.phone_ctl.as_deref()) {
        (Some(input), Some(path)) => match input.list(path) {
            Ok((l, false)) => Some((path.display().to_string(), l)),
            Ok((_, true)) => {
                return fail(path, "is an ITL, not a CTL: give the CTL the phones hold");
            }
            Err(code) => return code,
        },
        _ => None,
    };
    let phones = itlscope::plan::Phones {
        cm_group: args.cm_group.clone(),
        ctl: ctl.as_ref().map(|(name, l)| (name.clone(), l)),
    };
    // A node the ITL does not name is a usage error (names are matched whole).
    if let Err(e) = itlscope::plan::check_nodes(&held, &changes, &phones) {
        eprintln!("itlscope: plan: {e}");
        return ExitCode::from(2);
    }
    let name = args.phone_itl.display().to_string();
    let phone = match &input {
        PlanList::File(_) => PhoneItl::from_file(&name, &held),
        PlanList::Text(t) => PhoneItl {
            file: &name,
            source: ItlSource::ShowItl,
            sha1: t.sha1.clone(),
            list: &held,
        },
    };
    let report = match itlscope::plan::plan_for(&phone, &changes, &phones) {
        Ok(r) => r,
        Err(e) => return fail(&args.phone_itl, e),
    };
    if args.json {
        match serde_json::to_string_pretty(&itlscope::plan::json::view(&report)) {
            Ok(mut text) => {
                text.push('\n');
                emit(&text)
            }
            Err(e) => fail(&args.phone_itl, e),
        }
    } else {
        emit(&itlscope::plan::text::render(&report))
    }
}

/// `diff`: what changed between two trust lists and whether a phone holding OLD accepts NEW.
fn diff(args: &cli::DiffArgs) -> ExitCode {
    use itlscope::diff::{Side, TextSide};
    let old_input = match PlanList::read(&args.old) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let new_input = match PlanList::read(&args.new) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let old_list = match old_input.list(&args.old) {
        Ok((l, _)) => l,
        Err(code) => return code,
    };
    let new_list = match new_input.list(&args.new) {
        Ok((l, _)) => l,
        Err(code) => return code,
    };
    let (old_name, new_name) = (
        args.old.display().to_string(),
        args.new.display().to_string(),
    );
    fn side<'a>(
        name: &'a str,
        list: &'a cisco::model::TrustList<'a>,
        input: &'a PlanList,
    ) -> Side<'a> {
        Side {
            name,
            list,
            text: match input {
                PlanList::File(_) => None,
                PlanList::Text(t) => Some(TextSide {
                    signer: &t.list.signer,
                    sha1: t.sha1.as_deref(),
                }),
            },
        }
    }
    let report = itlscope::diff::diff(
        &side(&old_name, &old_list, &old_input),
        &side(&new_name, &new_list, &new_input),
    );
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(mut text) => {
                text.push('\n');
                emit(&text)
            }
            Err(e) => fail(&args.new, e),
        }
    } else {
        emit(&itlscope::diff::render(&report))
    }
}

/// Why `analyze` or `extract` stopped or failed.
enum Failure {
    /// Input that cannot be read, or output that cannot be written: exit 1.
    Input(String),
}

/// Reads the captures into evidence; warnings about captures cut short go to stderr. A
/// capture that cannot be read is named on stderr and returned; the others are still read.
/// Fails when none can be read.
/// `analyze`'s pipeline options: no report of `analyze` reads a signed config's bytes once
/// parsed, so only its header, signed digest and CallManager group are kept (issue 20;
/// `extract` keeps the bytes).
fn analyze_options(input: &CaptureArgs) -> PipelineOptions {
    let mut options = input.options();
    options.collector.keep_signed_config_bytes = false;
    options
}

fn collect_evidence(
    options: PipelineOptions,
    input: &CaptureArgs,
    quiet: bool,
) -> Result<(Evidence, usize), Failure> {
    let options = PipelineOptions {
        progress: if quiet {
            Progress::silent()
        } else {
            Progress::stderr()
        },
        ..options
    };
    let (evidence, unreadable) = pipeline::collect_readable(&input.captures, &options);
    checked_evidence(
        evidence,
        unreadable.iter().map(ToString::to_string).collect(),
    )
}

/// The evidence of the captures read, with those cut inside their file header counted as
/// unreadable; warnings about captures cut short go to stderr, unreadable ones are named
/// there. Fails when none can be read.
fn checked_evidence(
    mut evidence: Evidence,
    mut unreadable: Vec<String>,
) -> Result<(Evidence, usize), Failure> {
    // A capture cut inside its file header gave no frame at all: it was not read, whatever
    // the reader salvaged (a header-only capture, whole but empty, is read and has 0 frames).
    evidence
        .captures
        .retain(|summary| match &summary.truncated {
            Some(_) if summary.frames == 0 => {
                unreadable.push(format!(
                    "{}: the capture is cut inside its file header: no frame can be read",
                    summary.path
                ));
                false
            }
            _ => true,
        });
    for summary in &evidence.captures {
        if let Some(warning) = &summary.truncated {
            eprintln!("itlscope: warning: {warning}");
        }
    }
    if evidence.captures.is_empty() {
        return Err(Failure::Input(unreadable.join("\nitlscope: ")));
    }
    for e in &unreadable {
        eprintln!(
            "itlscope: {e} (skipped; the report covers the {} readable capture(s))",
            evidence.captures.len()
        );
    }
    Ok((evidence, unreadable.len()))
}

fn extract(input: &CaptureArgs, dir: &Path, quiet: bool) -> ExitCode {
    let (evidence, skipped) = match collect_evidence(input.options(), input, quiet) {
        Ok(e) => e,
        Err(Failure::Input(message)) => {
            eprintln!("itlscope: {message}");
            return ExitCode::from(1);
        }
    };
    let status = match itlscope::extract::write_extraction(&evidence.files, &evidence.tls, dir) {
        Ok(done) => emit(&format!(
            "{}: {} files and {} certificates written, index in {}\n",
            dir.display(),
            done.files.len(),
            done.certificates.len(),
            done.index.display()
        )),
        Err(e) => {
            eprintln!("itlscope: {e}");
            ExitCode::from(1)
        }
    };
    if skipped > 0 {
        ExitCode::from(1)
    } else {
        status
    }
}

fn read_phone_itl(path: &Path) -> Result<PhoneItlFile, Failure> {
    read_trust_list("--phone-itl", path, PhoneItlFile::new)
}

fn read_phone_ctl(path: &Path) -> Result<PhoneItlFile, Failure> {
    read_trust_list("--phone-ctl", path, PhoneItlFile::new_ctl)
}

/// Reads a trust list given by `option`, refusing absurd sizes and other kinds of file.
fn read_trust_list(
    option: &str,
    path: &Path,
    take: fn(String, Vec<u8>) -> Result<PhoneItlFile, itlscope::diagnosis::PhoneItlError>,
) -> Result<PhoneItlFile, Failure> {
    // An ITL is a few KB; refuse anything absurd rather than read it whole.
    const LIMIT: u64 = 16 * 1024 * 1024;
    let meta = std::fs::metadata(path)
        .map_err(|e| Failure::Input(format!("{option} {}: {e}", path.display())))?;
    if meta.len() > LIMIT {
        return Err(Failure::Input(format!(
            "{option} {}: {} bytes is not a trust list (limit {LIMIT})",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Input(format!("{option} {}: {e}", path.display())))?;
    // `show itl` / `show ctl` text: one rule with `plan` (docs/plan.md), said here by name.
    if let Some(text) = std::str::from_utf8(&bytes)
        .ok()
        .filter(|t| itlscope::plan::show_itl::has_listing(t))
    {
        let name = path.display().to_string();
        return Err(Failure::Input(format!(
            "{option} {name}: {}",
            itlscope::plan::show_itl::refused_as_phone_file(text, &name, option)
        )));
    }
    take(path.display().to_string(), bytes)
        .map_err(|e| Failure::Input(format!("{option} {}: {e}", path.display())))
}

/// The one value of `option` given without a phone; a second one is a usage error (exit 2).
fn unscoped<'a, T>(option: &str, values: &'a [(Option<String>, T)]) -> Option<&'a T> {
    let mut plain = values
        .iter()
        .filter(|(mac, _)| mac.is_none())
        .map(|(_, v)| v);
    let first = plain.next();
    if plain.next().is_some() {
        clap::Error::raw(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{option} is given twice without a phone: name each phone (SEP<MAC>=VALUE)\n"),
        )
        .exit();
    }
    first
}

/// The inputs given for one phone each (`SEP<MAC>=VALUE`), one entry per MAC; the same
/// option twice for one phone is a usage error (exit 2).
fn scoped_inputs(
    args: &AnalyzeArgs,
    inventory: Option<&(PathBuf, Inventory)>,
) -> Result<Vec<ScopedInputs>, Failure> {
    let mut out: Vec<ScopedInputs> = Vec::new();
    fn entry<'a>(out: &'a mut Vec<ScopedInputs>, mac: &str) -> &'a mut ScopedInputs {
        match out.iter().position(|s| s.mac == mac) {
            Some(i) => &mut out[i],
            None => {
                out.push(ScopedInputs {
                    mac: mac.to_string(),
                    ..ScopedInputs::default()
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        }
    }
    let twice = |option: &str, mac: &str| -> ! {
        clap::Error::raw(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{option} is given twice for SEP{mac}\n"),
        )
        .exit()
    };
    for (mac, path) in &args.phone_itl {
        if let Some(mac) = mac {
            let file = read_phone_itl(path)?;
            let e = entry(&mut out, mac);
            if e.phone_itl.replace(file).is_some() {
                twice("--phone-itl", mac);
            }
        }
    }
    for (mac, path) in &args.phone_ctl {
        if let Some(mac) = mac {
            let file = read_phone_ctl(path)?;
            let e = entry(&mut out, mac);
            if e.phone_ctl.replace(file).is_some() {
                twice("--phone-ctl", mac);
            }
        }
    }
    for (mac, hash) in &args.phone_itl_hash {
        if let Some(mac) = mac {
            let e = entry(&mut out, mac);
            if e.phone_itl_hash.replace(hash.clone()).is_some() {
                twice("--phone-itl-hash", mac);
            }
        }
    }
    for (mac, status) in &args.phone_status {
        if let Some(mac) = mac {
            let e = entry(&mut out, mac);
            if e.phone_status != PhoneStatus::Unknown {
                twice("--phone-status", mac);
            }
            e.phone_status = *status;
        }
    }
    // The inventory's rows, each a phone's scoped inputs; a value given both there and on
    // the command line for the same phone is a conflict, not a silent choice.
    if let Some((path, inventory)) = inventory {
        let both = |option: &str, mac: &str, line: usize| -> ! {
            clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "{option} for SEP{mac} is given on the command line and in {} (line {line})\n",
                    path.display()
                ),
            )
            .exit()
        };
        for row in &inventory.rows {
            let itl = row.phone_itl.as_deref().map(read_phone_itl).transpose()?;
            let ctl = row.phone_ctl.as_deref().map(read_phone_ctl).transpose()?;
            let e = entry(&mut out, &row.mac);
            if let Some(itl) = itl
                && e.phone_itl.replace(itl).is_some()
            {
                both("--phone-itl", &row.mac, row.line);
            }
            if let Some(ctl) = ctl
                && e.phone_ctl.replace(ctl).is_some()
            {
                both("--phone-ctl", &row.mac, row.line);
            }
            if let Some(hash) = &row.phone_itl_hash
                && e.phone_itl_hash.replace(hash.clone()).is_some()
            {
                both("--phone-itl-hash", &row.mac, row.line);
            }
            if row.phone_status != PhoneStatus::Unknown {
                if e.phone_status != PhoneStatus::Unknown {
                    both("--phone-status", &row.mac, row.line);
                }
                e.phone_status = row.phone_status;
            }
        }
    }
    Ok(out)
}

/// `--inventory FILE`, read; a file that cannot be read or parsed is an input error (exit 1).
fn read_inventory(args: &AnalyzeArgs) -> Result<Option<(PathBuf, Inventory)>, Failure> {
    let Some(path) = &args.inventory else {
        return Ok(None);
    };
    let inventory = itlscope::diagnosis::inventory::read(path)
        .map_err(|e| Failure::Input(format!("--inventory {}: {e}", path.display())))?;
    Ok(Some((path.clone(), inventory)))
}

/// `--key-backup`, or the inventory's one `key_backup` value; the two must agree.
fn key_backup(args: &AnalyzeArgs, inventory: Option<&(PathBuf, Inventory)>) -> KeyBackup {
    let Some((path, from_file)) = inventory.and_then(|(p, i)| i.key_backup.map(|k| (p, k))) else {
        return args.key_backup;
    };
    if args.key_backup != KeyBackup::Unknown && args.key_backup != from_file {
        clap::Error::raw(
            clap::error::ErrorKind::ArgumentConflict,
            format!(
                "--key-backup {} contradicts key_backup {} in {}\n",
                args.key_backup.as_str(),
                from_file.as_str(),
                path.display()
            ),
        )
        .exit()
    }
    from_file
}

/// Colour on standard output: `--color`, then `NO_COLOR` / `CLICOLOR_FORCE`, then whether
/// it is a terminal.
fn use_color(when: ColorWhen) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
        }
    }
}

/// What sees each phone's diagnosis while an output is written (its index, from 0).
type Watch<'w> = &'w mut dyn FnMut(usize, &itlscope::diagnosis::PhoneDiagnosis);

/// Runs `analyze`; the number of captures that could not be read (reported on stderr).
fn analyze(args: &AnalyzeArgs) -> Result<usize, Failure> {
    let mut side = itlscope::sidecar::ingest_paths(&args.evidence, &Default::default())
        .map_err(|e| Failure::Input(format!("--evidence {e}")))?;
    let inventory = read_inventory(args)?;
    if let Some((path, inv)) = &inventory
        && !inv.ignored_columns.is_empty()
    {
        side.input_notes.push(format!(
            "--inventory {}: columns ignored, they stand for no option: {}",
            path.display(),
            inv.ignored_columns.join(", ")
        ));
    }
    let facts = OperatorFacts {
        phone_itl: unscoped("--phone-itl", &args.phone_itl)
            .map(|p| read_phone_itl(p))
            .transpose()?,
        phone_itl_hash: unscoped("--phone-itl-hash", &args.phone_itl_hash).cloned(),
        phone_ctl: unscoped("--phone-ctl", &args.phone_ctl)
            .map(|p| read_phone_ctl(p))
            .transpose()?,
        phone_status: unscoped("--phone-status", &args.phone_status)
            .copied()
            .unwrap_or(PhoneStatus::Unknown),
        scoped: scoped_inputs(args, inventory.as_ref())?,
        key_backup: key_backup(args, inventory.as_ref()),
        side,
    };
    let limits = Limits {
        max_phones: args.max_phones,
    };
    // Machine-readable output on stdout: `--follow`'s lines go to stderr, out of its way.
    let lines_to_stderr = args.json
        || args.output.as_deref() == Some(Path::new("-"))
        || matches!(
            args.format,
            Some(Format::Json | Format::Csv | Format::Jsonl)
        );
    let (evidence, skipped, facts, follower) = if args.follow {
        let color = !lines_to_stderr && use_color(args.color);
        let (evidence, skipped, mut follower) =
            follow_input(args, facts, limits, color, lines_to_stderr)?;
        let facts = follower.take_facts();
        (evidence, skipped, facts, Some(follower))
    } else {
        let (evidence, skipped) =
            collect_evidence(analyze_options(&args.input), &args.input, args.quiet)?;
        (evidence, skipped, facts, None)
    };
    let prepared = Prepared::new(&evidence, &facts, &CiscoBackend, limits);
    // Version, date and command line, the same in every report this run writes.
    let generated = report::json::Generated::now(std::env::args_os());
    let text_options = TextOptions {
        color: use_color(args.color),
        brief: args.brief,
        phone_itl: facts
            .phone_itl
            .as_ref()
            .map(|f| (f.name.clone(), f.bytes.clone())),
    };
    let json_to_stdout = args.output.as_deref() == Some(Path::new("-"));
    let stdout_json = args.json || json_to_stdout || args.format == Some(Format::Json);
    let stdout_rows = matches!(args.format, Some(Format::Csv | Format::Jsonl));
    // One report written phone by phone: each phone is diagnosed while its part is written
    // and dropped after, so a fleet never holds every diagnosis (issue 20, fleet scale).
    // The text report alone is written so too (its top from a first pass); so are several
    // reports, `--redact` and `--follow`, below.
    let only_stdout = (args.output.is_none() || json_to_stdout)
        && args.html.is_none()
        && args.annotate.is_none()
        && !args.redact
        && follower.is_none();
    if only_stdout && (stdout_json || stdout_rows) {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let written = match args.format {
            _ if stdout_json => {
                report::json::write_streaming(&prepared, &evidence, Some(&generated), &mut stdout)
            }
            Some(Format::Csv) => {
                report::rows::write_csv_streaming(&prepared, &evidence, &mut stdout)
            }
            _ => report::rows::write_jsonl_streaming(&prepared, &evidence, &mut stdout),
        };
        return match written.and_then(|()| stdout.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Failure::Input(format!("standard output: {e}")))
            }
            _ => Ok(skipped),
        };
    }
    if only_stdout {
        // The text report alone: its top from each phone's line, then each phone diagnosed
        // again for its section and dropped once written.
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let written =
            report::text::write_streaming(&prepared, &evidence, &text_options, &mut stdout);
        return match written.and_then(|()| stdout.flush()) {
            // A closed pipe (`| head`) is the reader's choice, not an error.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Failure::Input(format!("standard output: {e}")))
            }
            _ => Ok(skipped),
        };
    }
    // Several outputs, `--redact` or `--follow`: still phone by phone (issue 20). A first
    // pass diagnoses each phone once for what must be known of every phone before the first
    // phone's part is written (the text report's and the HTML page's top, the annotated
    // capture's comments, `--follow`'s last updates) and keeps only that; then each output
    // is written diagnosing each phone again and dropping it once written.
    let stdout_text = !stdout_json && !stdout_rows;
    let want_lines = stdout_text || args.redact;
    let mut lines = Vec::new();
    let mut html_lines = Vec::new();
    let mut comments = report::annotate::Comments::new();
    let gathered =
        want_lines || args.html.is_some() || args.annotate.is_some() || follower.is_some();
    let mut gather = |i: usize, p: &itlscope::diagnosis::PhoneDiagnosis| {
        if let Some(line) = follower.as_ref().and_then(|f| f.final_update(p)) {
            follow_line(&line, lines_to_stderr);
        }
        if want_lines {
            lines.push(report::fleet::PhoneLine::of(p));
        }
        if args.html.is_some() {
            html_lines.push(report::html::HtmlLine::of(i, p));
        }
        if args.annotate.is_some() {
            report::annotate::add_comments(&mut comments, p, 0);
        }
    };
    let json_file = args.output.as_deref().filter(|_| !json_to_stdout);
    // The JSON file (`-o`), written phone by phone; `watch` sees each phone as it goes.
    let write_json_file = |path: &Path,
                           redactor: Option<&mut report::redact::Redactor>,
                           watch: Option<Watch<'_>>|
     -> Result<(), Failure> {
        let written = std::fs::File::create(path).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            match watch {
                Some(watch) => report::json::write_streaming_watched(
                    &prepared,
                    &evidence,
                    Some(&generated),
                    watch,
                    &mut out,
                )?,
                None => report::redact::write_json_streaming(
                    redactor,
                    &prepared,
                    &evidence,
                    Some(&generated),
                    &mut out,
                )?,
            }
            out.flush()
        });
        written.map_err(|e| Failure::Input(format!("{}: {e}", path.display())))
    };
    // The first pass rides along another one where it can: `--redact`'s reading of the
    // JSON, else the JSON file's writing; alone only when neither is made.
    let mut redactor = None;
    let mut file_written = false;
    if args.redact {
        // One map of pseudonyms for every report this run writes, learnt from the JSON
        // object and the text report as they are written, neither held whole.
        let mut learnt = report::redact::Redactor::default();
        learnt
            .learn_json(&prepared, &evidence, Some(&generated), &mut gather)
            .map_err(|e| Failure::Input(format!("--redact: {e}")))?;
        learnt
            .learn_text(&prepared, &lines, &evidence, &text_options)
            .map_err(|e| Failure::Input(format!("--redact: {e}")))?;
        redactor = Some(learnt);
    } else if let Some(path) = json_file {
        let watch: Option<Watch<'_>> = if gathered { Some(&mut gather) } else { None };
        write_json_file(path, None, watch)?;
        file_written = true;
    } else if gathered {
        for (i, p) in prepared.phones().enumerate() {
            gather(i, &p);
        }
    }
    if let Some(path) = json_file.filter(|_| !file_written) {
        write_json_file(path, redactor.as_mut(), None)?;
    }
    if let Some(path) = args.annotate.as_deref() {
        annotate(&args.input, &comments, path)?;
    }
    drop(comments);
    if let Some(path) = args.html.as_deref() {
        let written = std::fs::File::create(path).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            report::redact::write_html_streaming(
                redactor.as_mut(),
                &prepared,
                &html_lines,
                &evidence,
                Some(&generated),
                &mut out,
            )?;
            out.flush()
        });
        written.map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    }
    drop(html_lines);
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if stdout_json {
        report::redact::write_json_streaming(
            redactor.as_mut(),
            &prepared,
            &evidence,
            Some(&generated),
            &mut stdout,
        )
    } else if stdout_rows {
        let csv = args.format == Some(Format::Csv);
        report::redact::write_filtered_streaming(redactor.as_mut(), false, &mut stdout, |out| {
            if csv {
                report::rows::write_csv_streaming(&prepared, &evidence, out)
            } else {
                report::rows::write_jsonl_streaming(&prepared, &evidence, out)
            }
        })
    } else {
        report::redact::write_filtered_streaming(redactor.as_mut(), true, &mut stdout, |out| {
            report::text::write_prepared(&prepared, &lines, &evidence, &text_options, out)
        })
    };
    match written.and_then(|()| stdout.flush()) {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Input(format!("standard output: {e}")))
        }
        _ => Ok(skipped),
    }
}

/// `--follow`: reads the one capture as it arrives, printing each phone's verdict line as
/// its boot ends; the first Ctrl-C stops the reading (the report covers what was read), a
/// second one ends at once.
fn follow_input(
    args: &AnalyzeArgs,
    facts: OperatorFacts,
    limits: Limits,
    color: bool,
    to_stderr: bool,
) -> Result<(Evidence, usize, itlscope::follow::Follower<'static>), Failure> {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let stop = Arc::new(AtomicBool::new(false));
    let sigint = signal_hook::consts::SIGINT;
    // The conditional one first: it sees the flag before the second registration sets it.
    signal_hook::flag::register_conditional_shutdown(sigint, 130, Arc::clone(&stop))
        .and_then(|_| signal_hook::flag::register(sigint, Arc::clone(&stop)))
        .map_err(|e| Failure::Input(format!("--follow: cannot take Ctrl-C: {e}")))?;
    // Checked in `check_usage`: exactly one capture.
    let Some(path) = args.input.captures.first() else {
        return Err(Failure::Input("--follow: no capture given".into()));
    };
    let mut follower = itlscope::follow::Follower::new(
        facts,
        &CiscoBackend,
        limits,
        &path.display().to_string(),
        color,
    );
    let result = itlscope::follow::follow_capture(
        path,
        &analyze_options(&args.input),
        &mut follower,
        &stop,
        |line| follow_line(line, to_stderr),
    )
    .map_err(|e| Failure::Input(e.to_string()))?;
    let (evidence, skipped) = checked_evidence(result.into_evidence(), Vec::new())?;
    Ok((evidence, skipped, follower))
}

/// Prints one `--follow` line at once (standard output may be a pipe); a closed pipe is
/// the reader's choice.
fn follow_line(line: &itlscope::follow::FollowLine, to_stderr: bool) {
    let text = line.printed();
    let written = if to_stderr {
        let mut err = std::io::stderr().lock();
        err.write_all(text.as_bytes()).and_then(|()| err.flush())
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("itlscope: --follow: {e}");
    }
}

/// `--annotate OUT`: the capture again, copied as pcapng with the diagnosis's comments
/// (gathered phone by phone before).
fn annotate(
    input: &CaptureArgs,
    comments: &report::annotate::Comments,
    out_path: &Path,
) -> Result<(), Failure> {
    use itlscope::report::annotate;
    // Checked in `check_usage`: one capture, a file.
    let Some(capture) = input.captures.first() else {
        return Ok(());
    };
    let mut reader = itlscope::capture::CaptureReader::open_with(capture, input.options().reader)
        .map_err(|e| Failure::Input(e.to_string()))?;
    let file = std::fs::File::create(out_path)
        .map_err(|e| Failure::Input(format!("{}: {e}", out_path.display())))?;
    let mut out = std::io::BufWriter::new(file);
    annotate::write_annotated(&mut reader, comments, &mut out)
        .map_err(|e| Failure::Input(format!("{}: {e}", out_path.display())))?;
    Ok(())
}

/// Usage errors clap cannot see: exit 2 with clap's usage line.
fn check_usage(command: &Command) {
    if let Command::Analyze(args) = command
        && args.annotate.is_some()
        && (args.input.captures.len() != 1 || args.input.captures[0].as_os_str() == "-")
    {
        usage_error(
            "analyze",
            clap::error::ErrorKind::ArgumentConflict,
            "--annotate copies one capture file: give exactly one, not standard input (it is read twice)",
        );
    }
    if let Command::Analyze(args) = command
        && args.redact
        && args.annotate.is_some()
    {
        usage_error(
            "analyze",
            clap::error::ErrorKind::ArgumentConflict,
            "--annotate copies the capture's packets as they are (addresses, names, certificates): it cannot be redacted; share the redacted reports, not the annotated capture",
        );
    }
    if let Command::Analyze(args) = command
        && args.follow
        && args.redact
    {
        usage_error(
            "analyze",
            clap::error::ErrorKind::ArgumentConflict,
            "--follow prints each phone's line before the whole capture is read, and --redact numbers its pseudonyms from the whole diagnosis: save the capture, then run --redact on it",
        );
    }
    if let Command::Analyze(args) = command
        && args.follow
        && args.input.captures.len() != 1
    {
        usage_error(
            "analyze",
            clap::error::ErrorKind::ArgumentConflict,
            "--follow watches one capture as it arrives: give exactly one (a file, or `-` for standard input)",
        );
    }
    if let Command::Analyze(args) = command
        && args.brief
        && let Some(format) = args.format.filter(|f| *f != Format::Text)
    {
        usage_error(
            "analyze",
            clap::error::ErrorKind::ArgumentConflict,
            &format!(
                "--brief is the readable report's verdict table; --format {} already gives one row per phone: give one of them",
                format
                    .to_possible_value()
                    .map(|v| v.get_name().to_owned())
                    .unwrap_or_default()
            ),
        );
    }
    let (name, twice) = match command {
        Command::Analyze(args) => ("analyze", args.input.stdin_twice()),
        Command::Extract { input, .. } => ("extract", input.stdin_twice()),
        Command::Verify { file, trust } => (
            "verify",
            file.as_os_str() == "-" && trust.as_os_str() == "-",
        ),
        Command::Diff(args) => (
            "diff",
            args.old.as_os_str() == "-" && args.new.as_os_str() == "-",
        ),
        _ => return,
    };
    if twice {
        usage_error(
            name,
            clap::error::ErrorKind::ArgumentConflict,
            "`-` (standard input) is given more than once; it can be read only once",
        );
    }
}

/// The manual pages: `itlscope.1` and one `itlscope-SUB.1` per subcommand (the main page's
/// SEE ALSO names them), each with its options, examples and exit status.
fn man_pages() -> Vec<(String, clap::Command)> {
    let mut cli = Cli::command();
    cli.build();
    let mut pages = vec![("itlscope".to_owned(), cli.clone())];
    for sub in cli.get_subcommands() {
        pages.push((format!("itlscope-{}", sub.get_name()), sub.clone()));
    }
    pages
}

/// `man`: one page on stdout, or every page into `dir`.
fn man(subcommand: Option<&str>, dir: Option<&Path>) -> ExitCode {
    let render = |cmd: clap::Command| -> Result<Vec<u8>, std::io::Error> {
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut out)?;
        Ok(out)
    };
    let pages = man_pages();
    if let Some(dir) = dir {
        for (name, cmd) in pages {
            let path = dir.join(format!("{name}.1"));
            if let Err(e) = render(cmd).and_then(|page| std::fs::write(&path, page)) {
                return fail(&path, e);
            }
            println!("{}", path.display());
        }
        return ExitCode::SUCCESS;
    }
    let wanted = subcommand.map_or_else(|| "itlscope".to_owned(), |s| format!("itlscope-{s}"));
    let Some((_, cmd)) = pages.into_iter().find(|(name, _)| *name == wanted) else {
        eprintln!(
            "itlscope: man: no subcommand {:?}: analyze, show, extract, verify, plan, diff, completions, man or help",
            subcommand.unwrap_or_default()
        );
        return ExitCode::from(2);
    };
    match render(cmd) {
        Ok(page) => emit(&String::from_utf8_lossy(&page)),
        Err(e) => fail(&PathBuf::from("man page"), e),
    }
}

/// Exits with status 2 and clap's usage line of subcommand `name`.
fn usage_error(name: &str, kind: clap::error::ErrorKind, message: &str) -> ! {
    let mut cli = Cli::command();
    cli.build();
    let sub = cli.find_subcommand_mut(name).cloned().unwrap_or(cli);
    sub.bin_name(format!("itlscope {name}"))
        .error(kind, message)
        .exit()
}

/// Parses the command line. `--evidence` takes every file after it, so `analyze --evidence
/// log.txt boot.pcap` leaves no capture: clap's "required arguments" alone would hide why,
/// so say which file was taken as evidence and how to give it.
fn parse_command_line() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::MissingRequiredArgument => {
            let taken = files_after_evidence(&args);
            if taken.is_empty() {
                e.exit()
            }
            let captures: Vec<&std::ffi::OsString> = taken
                .iter()
                .copied()
                .filter(|f| looks_like_capture(Path::new(f)))
                .collect();
            let message = if captures.is_empty() {
                "no capture given: --evidence takes every file after it; name the captures before --evidence".to_owned()
            } else {
                let names: Vec<String> = captures
                    .iter()
                    .map(|f| Path::new(f).display().to_string())
                    .collect();
                format!(
                    "no capture given: --evidence took {} as evidence, and it is a capture; --evidence takes every file after it, so name the captures before --evidence (or write --evidence=FILE)",
                    names.join(", ")
                )
            };
            usage_error(
                "analyze",
                clap::error::ErrorKind::MissingRequiredArgument,
                &message,
            )
        }
        Err(e) => e.exit(),
    }
}

/// The values clap gave to `--evidence` (every word after it up to the next option).
fn files_after_evidence(args: &[std::ffi::OsString]) -> Vec<&std::ffi::OsString> {
    let mut taken = Vec::new();
    let mut inside = false;
    for a in args.iter().skip(1) {
        let text = a.to_string_lossy();
        if text == "--evidence" {
            inside = true;
        } else if text.starts_with('-') && text != "-" {
            inside = false;
        } else if inside {
            taken.push(a);
        }
    }
    taken
}

/// Whether the file starts like a capture ([`itlscope::capture::file_kind`]).
fn looks_like_capture(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    if std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_err()
    {
        return false;
    }
    match itlscope::capture::file_kind(&magic) {
        // A gzip file is a capture only by name: PRT bundles (probrep-*.tar.gz) are evidence.
        Some("gzip-compressed") => path.to_string_lossy().contains(".pcap"),
        kind => kind.is_some(),
    }
}

fn main() -> ExitCode {
    let cli = parse_command_line();
    check_usage(&cli.command);
    match cli.command {
        Command::Analyze(args) => match analyze(&args) {
            Ok(0) => ExitCode::SUCCESS,
            Ok(_) => ExitCode::from(1),
            Err(Failure::Input(message)) => {
                eprintln!("itlscope: {message}");
                ExitCode::from(1)
            }
        },
        Command::Show {
            file,
            json,
            payload,
            color,
        } => show(&file, json, payload.as_deref(), use_color(color)),
        Command::Extract {
            input,
            output,
            quiet,
        } => extract(&input, &output, quiet),
        Command::Verify { file, trust } => verify(&file, &trust),
        Command::Plan(args) => plan(&args),
        Command::Diff(args) => diff(&args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "itlscope", &mut out);
            emit(&String::from_utf8_lossy(&out))
        }
        Command::Man { subcommand, dir } => man(subcommand.as_deref(), dir.as_deref()),
    }
}
