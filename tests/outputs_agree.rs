//! Every output form gives the same answer (issue 18, "every output agrees"): for every phone
//! of every run the scenario README lists, `--brief`, `--json`, `--format csv` and `--html`
//! give the same verdict, and the CSV and the HTML table give the same main reason.

use itlscope_gen::scenarios::catalog;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

fn run(args: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("itlscope runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Phone name -> (verdict, main reason) from the HTML verdict table.
fn html_rows(page: &str) -> BTreeMap<String, (String, String)> {
    let table = page
        .split("<table id=\"verdicts\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_default();
    let mut rows = BTreeMap::new();
    for row in table.split("<tr><td><a href=\"#phone-").skip(1) {
        let name = row
            .split_once("\">")
            .and_then(|(_, r)| r.split_once("</a>"))
            .map(|(n, _)| unescape(n))
            .expect("phone name");
        let cells: Vec<&str> = row.split("<td").collect();
        let verdict = cells
            .get(2)
            .and_then(|c| c.split_once('>'))
            .and_then(|(_, r)| r.split_once("</td>"))
            .map(|(v, _)| v.to_string())
            .expect("verdict cell");
        let reason = cells
            .get(3)
            .and_then(|c| c.split_once('>'))
            .and_then(|(_, r)| r.split_once("</td>"))
            .map(|(v, _)| unescape(v))
            .expect("reason cell");
        rows.insert(name, (verdict, reason));
    }
    rows
}

fn brief_verdict(word: &str) -> &'static str {
    match word {
        "DELETE THE ITL" => "required",
        "DO NOT DELETE" => "not-required",
        "UNDETERMINED" => "undetermined",
        other => panic!("unknown verdict word {other:?}"),
    }
}

#[test]
fn brief_json_csv_and_html_agree_on_every_phone_of_every_scenario() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut compared = 0;
    for scenario in catalog::all() {
        for run_spec in &scenario.runs {
            let mut base = vec!["analyze".to_string(), format!("captures/{}", scenario.file)];
            base.extend(run_spec.args.iter().cloned());
            let with = |extra: &[&str]| {
                let mut a = base.clone();
                a.extend(extra.iter().map(|s| s.to_string()));
                a
            };
            let json: Value = serde_json::from_str(&run(&with(&["--json"]))).expect("JSON");
            let csv_text = run(&with(&["--format", "csv"]));
            let brief = run(&with(&["--brief", "--color", "never"]));
            let html_path = dir.path().join("report.html");
            let html_arg = html_path.to_string_lossy().into_owned();
            run(&with(&["--html", &html_arg, "--brief"]));
            let page = std::fs::read_to_string(&html_path).expect("HTML report");
            let html = html_rows(&page);

            let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
            let header = reader.headers().expect("CSV header").clone();
            let col = |name: &str| header.iter().position(|h| h == name).expect(name);
            let mut csv_rows = BTreeMap::new();
            for rec in reader.records() {
                let rec = rec.expect("CSV row");
                csv_rows.insert(
                    rec[col("name")].to_string(),
                    (
                        rec[col("verdict")].to_string(),
                        rec[col("main_reason_text")].to_string(),
                    ),
                );
            }
            let brief_rows: BTreeMap<String, String> = brief
                .lines()
                .filter(|l| !l.starts_with(' ') && !l.is_empty())
                .filter_map(|l| {
                    let (name, rest) = l.split_once("  ")?;
                    let rest = rest.trim_start();
                    let word = ["DELETE THE ITL", "DO NOT DELETE", "UNDETERMINED"]
                        .into_iter()
                        .find(|w| rest.starts_with(w))?;
                    Some((name.to_string(), brief_verdict(word).to_string()))
                })
                .collect();

            let phones = json["phones"].as_array().expect("phones");
            assert_eq!(csv_rows.len(), phones.len(), "{base:?}");
            for p in phones {
                let name = match p["mac"].as_str() {
                    Some(mac) => format!("SEP{mac}"),
                    None => p["ip"].as_str().unwrap_or("unidentified").to_string(),
                };
                let verdict = p["verdict"]["delete_itl"].as_str().expect("verdict");
                let (csv_verdict, csv_reason) = &csv_rows[&name];
                let (html_verdict, html_reason) = &html[&name];
                assert_eq!(csv_verdict, verdict, "{base:?} {name}: CSV");
                assert_eq!(html_verdict, verdict, "{base:?} {name}: HTML");
                assert_eq!(brief_rows[&name], verdict, "{base:?} {name}: --brief");
                assert_eq!(html_reason, csv_reason, "{base:?} {name}: main reason");
                compared += 1;
            }
        }
    }
    assert!(compared >= 60, "only {compared} phones compared");
}
