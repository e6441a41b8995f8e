//! `ITLSCOPE_REGENERATE=1`: rewrite a golden, schema or doc file and say what changed.
//!
//! Every test that regenerates committed files goes through [`Regen::write`]: for each file
//! whose content changes it prints `changed: PATH (+A −B lines)` and the first lines of a
//! unified diff; [`Regen`] prints `unchanged: N files` when dropped, so the commit message
//! can say what a regeneration did. Printed straight to stderr: the test harness captures
//! `print!`/`eprint!` but not this, so the lines show without `--nocapture`.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// Diff lines printed per changed file at most.
const MAX_DIFF_LINES: usize = 40;
/// Above this many lines on each side of the changed middle, the diff is printed as the
/// whole middle removed then added (a line diff there would cost too much memory).
const MAX_LCS_LINES: usize = 4000;

/// True when `ITLSCOPE_REGENERATE` is set.
pub fn regenerating() -> bool {
    std::env::var_os("ITLSCOPE_REGENERATE").is_some()
}

/// Counts the files one test regenerated; prints the unchanged count when dropped.
#[derive(Debug, Default)]
pub struct Regen {
    /// Files rewritten because their content changed.
    pub changed: usize,
    /// Files whose content was already the generated one (left untouched).
    pub unchanged: usize,
    label: String,
}

impl Regen {
    /// A counter for one test's files; `label` names them in the summary line.
    pub fn new(label: &str) -> Self {
        Regen {
            label: label.to_owned(),
            ..Regen::default()
        }
    }

    /// Writes `new` to `path` when it differs from what is there, printing what changed.
    /// Returns true when the file changed.
    pub fn write(&mut self, path: &Path, new: &[u8]) -> bool {
        let old = std::fs::read(path).ok();
        if old.as_deref() == Some(new) {
            self.unchanged += 1;
            return false;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("directory for a regenerated file");
        }
        // Written aside then renamed: a test reading the file meanwhile (the schema
        // validators run next to the regeneration) sees the old or the new content, whole.
        let aside = path.with_extension("regen-tmp");
        std::fs::write(&aside, new).expect("write regenerated file");
        std::fs::rename(&aside, path).expect("replace regenerated file");
        self.changed += 1;
        let old_text = old
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let new_text = String::from_utf8_lossy(new);
        say(&report(&path.display().to_string(), &old_text, &new_text));
        true
    }
}

impl Drop for Regen {
    fn drop(&mut self) {
        if self.changed + self.unchanged > 0 {
            say(&format!(
                "{}: changed {} files, unchanged: {} files\n",
                self.label, self.changed, self.unchanged
            ));
        }
    }
}

fn say(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// One edit of a line diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// `changed: PATH (+A −B lines)` and the first lines of a unified diff (3 lines of context).
pub fn report(path: &str, old: &str, new: &str) -> String {
    let edits = line_diff(old, new);
    let added = edits.iter().filter(|e| matches!(e, Edit::Added(_))).count();
    let removed = edits
        .iter()
        .filter(|e| matches!(e, Edit::Removed(_)))
        .count();
    let mut out = format!("changed: {path} (+{added} \u{2212}{removed} lines)\n");
    let mut diff = Vec::new();
    unified(&edits, 3, &mut diff);
    let shown = diff.len().min(MAX_DIFF_LINES);
    for l in &diff[..shown] {
        out.push_str(l);
        out.push('\n');
    }
    if diff.len() > shown {
        out.push_str(&format!("... ({} more diff lines)\n", diff.len() - shown));
    }
    out
}

/// Line edits turning `old` into `new`: common prefix and suffix, and a longest common
/// subsequence of what lies between (when it is small enough).
fn line_diff<'a>(old: &'a str, new: &'a str) -> Vec<Edit<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut edits: Vec<Edit<'a>> = a[..prefix].iter().map(|l| Edit::Same(l)).collect();
    if ma.len() <= MAX_LCS_LINES && mb.len() <= MAX_LCS_LINES {
        // lcs[i][j]: longest common subsequence of ma[i..] and mb[j..].
        let w = mb.len() + 1;
        let mut lcs = vec![0u32; (ma.len() + 1) * w];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() && j < mb.len() {
            if ma[i] == mb[j] {
                edits.push(Edit::Same(ma[i]));
                i += 1;
                j += 1;
            } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
                edits.push(Edit::Removed(ma[i]));
                i += 1;
            } else {
                edits.push(Edit::Added(mb[j]));
                j += 1;
            }
        }
        edits.extend(ma[i..].iter().map(|l| Edit::Removed(l)));
        edits.extend(mb[j..].iter().map(|l| Edit::Added(l)));
    } else {
        edits.extend(ma.iter().map(|l| Edit::Removed(l)));
        edits.extend(mb.iter().map(|l| Edit::Added(l)));
    }
    edits.extend(a[a.len() - suffix..].iter().map(|l| Edit::Same(l)));
    edits
}

/// Unified diff hunks of `edits` with `context` lines around each change.
fn unified(edits: &[Edit<'_>], context: usize, out: &mut Vec<String>) {
    let changed: Vec<usize> = (0..edits.len())
        .filter(|&k| !matches!(edits[k], Edit::Same(_)))
        .collect();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(context);
        let mut end = changed[k];
        // Join changes whose contexts touch into one hunk.
        while k < changed.len() && changed[k] <= end + 2 * context + 1 {
            end = changed[k];
            k += 1;
        }
        let end = (end + context + 1).min(edits.len());
        // Line numbers (1-based) where the hunk starts in each file.
        let (mut old_line, mut new_line) = (1, 1);
        for e in &edits[..start] {
            match e {
                Edit::Same(_) => {
                    old_line += 1;
                    new_line += 1;
                }
                Edit::Removed(_) => old_line += 1,
                Edit::Added(_) => new_line += 1,
            }
        }
        let hunk = &edits[start..end];
        let old_n = hunk.iter().filter(|e| !matches!(e, Edit::Added(_))).count();
        let new_n = hunk
            .iter()
            .filter(|e| !matches!(e, Edit::Removed(_)))
            .count();
        out.push(format!("@@ -{old_line},{old_n} +{new_line},{new_n} @@"));
        for e in hunk {
            out.push(match e {
                Edit::Same(l) => format!(" {l}"),
                Edit::Removed(l) => format!("-{l}"),
                Edit::Added(l) => format!("+{l}"),
            });
        }
    }
}

#[test]
fn a_report_counts_lines_and_shows_a_hunk() {
    let r = report("f.txt", "a\nb\nc\n", "a\nB\nc\nd\n");
    assert!(
        r.starts_with("changed: f.txt (+2 \u{2212}1 lines)\n"),
        "{r}"
    );
    assert!(r.contains("@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n"), "{r}");
    // A new file: everything added.
    let r = report("g.txt", "", "x\n");
    assert!(r.starts_with("changed: g.txt (+1 \u{2212}0 lines)"), "{r}");
}
