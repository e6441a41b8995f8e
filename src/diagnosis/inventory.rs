//! `--inventory FILE`: what the engineer knows about a fleet, one phone a row, as CSV with a
//! header row or as JSON Lines. Columns are named after the options they stand for (`mac`
//! or `name`, `phone_itl_hash`, `phone_status`, `phone_itl`, `phone_ctl`, `key_backup`);
//! other columns are ignored and named, so a CUCM export ("ITL File Status") or a sheet
//! with notes can be given as it is.

use super::facts::{ItlHash, KeyBackup, PhoneStatus, mac_of};
use std::path::{Path, PathBuf};

/// Largest inventory read: 50,000 phones with long paths fit in a few MiB.
pub const MAX_INVENTORY_BYTES: u64 = 64 << 20;

/// One phone's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRow {
    /// Line of the file the row is on (1-based; the header is line 1 of a CSV).
    pub line: usize,
    /// The phone's MAC, 12 upper-case hex digits.
    pub mac: String,
    /// `phone_itl_hash`.
    pub phone_itl_hash: Option<ItlHash>,
    /// `phone_status`.
    pub phone_status: PhoneStatus,
    /// `phone_itl`: a path, relative to the inventory file's folder.
    pub phone_itl: Option<PathBuf>,
    /// `phone_ctl`: a path, relative to the inventory file's folder.
    pub phone_ctl: Option<PathBuf>,
}

/// The inventory as read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inventory {
    /// The rows, in file order.
    pub rows: Vec<InventoryRow>,
    /// Columns that stand for no option (named in the report, not silently dropped).
    pub ignored_columns: Vec<String>,
    /// `key_backup`: the one value the rows give (the TFTP key backup is the cluster's).
    pub key_backup: Option<KeyBackup>,
}

/// Why an inventory was refused; every variant names the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    /// No column says which phone a row is about.
    #[error("no `mac` or `name` column: each row must name its phone (columns: {0})")]
    NoPhoneColumn(String),
    /// A cell that does not parse.
    #[error("line {line}, column {column}: {reason}")]
    Cell {
        /// The line.
        line: usize,
        /// The column's name.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// A row that is not CSV or JSON as the rest of the file.
    #[error("line {line}: {reason}")]
    Row {
        /// The line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Two rows for one phone.
    #[error("lines {first} and {second} are both about SEP{mac}: give one row per phone")]
    Duplicate {
        /// The MAC.
        mac: String,
        /// The first row's line.
        first: usize,
        /// The second row's line.
        second: usize,
    },
    /// Rows that disagree about the cluster's key backup.
    #[error(
        "key_backup is {first} on line {first_line} but {second} on line {second_line}: the backup of the TFTP key is the cluster's, give one value"
    )]
    KeyBackupDiffers {
        /// The first value.
        first: &'static str,
        /// Its line.
        first_line: usize,
        /// The other value.
        second: &'static str,
        /// Its line.
        second_line: usize,
    },
}

/// The option a column stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Mac,
    Hash,
    Status,
    Itl,
    Ctl,
    KeyBackup,
}

/// The column a header names: the option's name in any case, with `-` or `_`, with or
/// without the leading `--`; `name` and `device_name` for the phone's `SEP…` name.
fn column(header: &str) -> Option<Column> {
    let key = header
        .trim()
        .trim_start_matches("--")
        .to_ascii_lowercase()
        .replace('-', "_");
    Some(match key.as_str() {
        "mac" | "name" | "device_name" | "device" | "phone" => Column::Mac,
        "phone_itl_hash" | "itl_hash" => Column::Hash,
        "phone_status" | "status" => Column::Status,
        "phone_itl" => Column::Itl,
        "phone_ctl" => Column::Ctl,
        "key_backup" => Column::KeyBackup,
        _ => return None,
    })
}

/// Reads an inventory file (CSV or JSON Lines, by its first character).
pub fn read(path: &Path) -> Result<Inventory, String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INVENTORY_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_INVENTORY_BYTES {
        return Err(format!(
            "larger than {} MiB: not an inventory",
            MAX_INVENTORY_BYTES >> 20
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))?;
    let base = path.parent().unwrap_or(Path::new(""));
    parse(&text, base).map_err(|e| e.to_string())
}

/// Parses an inventory; relative paths are taken from `base`.
pub fn parse(text: &str, base: &Path) -> Result<Inventory, InventoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let cells = if text.trim_start().starts_with('{') {
        jsonl_cells(text)?
    } else {
        csv_cells(text)?
    };
    build(cells, base)
}

/// A row as (line, [(column name, value)]).
type Cells = Vec<(usize, Vec<(String, String)>)>;

fn csv_cells(text: &str) -> Result<Cells, InventoryError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| InventoryError::Row {
            line: 1,
            reason: e.to_string(),
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| InventoryError::Row {
            line: e.position().map_or(0, |p| p.line() as usize),
            reason: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let row = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_owned))
            .collect();
        out.push((line, row));
    }
    Ok(out)
}

fn jsonl_cells(text: &str) -> Result<Cells, InventoryError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| InventoryError::Row {
                line: n,
                reason: format!("not a JSON object: {e}"),
            })?;
        let Some(object) = value.as_object() else {
            return Err(InventoryError::Row {
                line: n,
                reason: "not a JSON object".into(),
            });
        };
        let row = object
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect();
        out.push((n, row));
    }
    Ok(out)
}

fn build(cells: Cells, base: &Path) -> Result<Inventory, InventoryError> {
    let mut inventory = Inventory::default();
    let mut backup_seen: Option<(KeyBackup, usize)> = None;
    let mut has_phone_column = cells.is_empty();
    for (line, row) in cells {
        let mut mac = None;
        let mut entry = InventoryRow {
            line,
            mac: String::new(),
            phone_itl_hash: None,
            phone_status: PhoneStatus::Unknown,
            phone_itl: None,
            phone_ctl: None,
        };
        let cell_error = |column: &str, reason: String| InventoryError::Cell {
            line,
            column: column.to_owned(),
            reason,
        };
        for (name, value) in &row {
            let Some(col) = column(name) else {
                if !inventory.ignored_columns.contains(name) {
                    inventory.ignored_columns.push(name.clone());
                }
                continue;
            };
            if col == Column::Mac {
                has_phone_column = true;
            }
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match col {
                Column::Mac => {
                    mac = Some(mac_of(value).ok_or_else(|| {
                        cell_error(
                            name,
                            format!("{value:?} is not a MAC or SEP<MAC> phone name"),
                        )
                    })?);
                }
                Column::Hash => {
                    entry.phone_itl_hash =
                        Some(ItlHash::parse(value).map_err(|e| cell_error(name, e.to_string()))?);
                }
                Column::Status => {
                    entry.phone_status = PhoneStatus::parse(value).ok_or_else(|| {
                        cell_error(name, format!("{value:?}: expected failed, ok or unknown"))
                    })?;
                }
                Column::Itl => entry.phone_itl = Some(base.join(value)),
                Column::Ctl => entry.phone_ctl = Some(base.join(value)),
                Column::KeyBackup => {
                    let backup = KeyBackup::parse(value).ok_or_else(|| {
                        cell_error(name, format!("{value:?}: expected yes, no or unknown"))
                    })?;
                    match backup_seen {
                        Some((first, first_line)) if first != backup => {
                            return Err(InventoryError::KeyBackupDiffers {
                                first: first.as_str(),
                                first_line,
                                second: backup.as_str(),
                                second_line: line,
                            });
                        }
                        Some(_) => {}
                        None => backup_seen = Some((backup, line)),
                    }
                }
            }
        }
        if !has_phone_column {
            let names: Vec<&str> = row.iter().map(|(n, _)| n.as_str()).collect();
            return Err(InventoryError::NoPhoneColumn(names.join(", ")));
        }
        let Some(mac) = mac else {
            return Err(InventoryError::Row {
                line,
                reason: "no phone named (the mac or name cell is empty)".into(),
            });
        };
        if let Some(first) = inventory.rows.iter().find(|r| r.mac == mac) {
            return Err(InventoryError::Duplicate {
                mac,
                first: first.line,
                second: line,
            });
        }
        entry.mac = mac;
        inventory.rows.push(entry);
    }
    inventory.key_backup = backup_seen.map(|(b, _)| b);
    Ok(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_name_their_phone_and_options() {
        let text = "\
Device Name,phone_itl_hash,Phone Status,phone_itl,notes
SEP001122334455,EE 5C 62 E0 5E 2B C6 82 2A 45 64 1E EB BA BF F2 47 6E 1D 93,failed,itl/a.tlv,lobby
00:11:22:33:44:66,,ok,,
";
        // "Device Name" and "Phone Status" are not option names: ignored and named.
        let e = parse(text, Path::new("/inv")).unwrap_err();
        assert!(matches!(e, InventoryError::NoPhoneColumn(_)), "{e}");
        let text = text
            .replace("Device Name", "name")
            .replace("Phone Status", "status");
        let inv = parse(&text, Path::new("/inv")).expect("parses");
        assert_eq!(inv.rows.len(), 2);
        assert_eq!(inv.rows[0].mac, "001122334455");
        assert_eq!(inv.rows[0].line, 2);
        assert_eq!(inv.rows[0].phone_status, PhoneStatus::Failed);
        assert_eq!(
            inv.rows[0].phone_itl.as_deref(),
            Some(Path::new("/inv/itl/a.tlv"))
        );
        assert!(inv.rows[0].phone_itl_hash.is_some());
        assert_eq!(inv.rows[1].mac, "001122334466");
        assert_eq!(inv.rows[1].phone_status, PhoneStatus::Ok);
        assert_eq!(inv.ignored_columns, vec!["notes".to_string()]);
        assert_eq!(inv.key_backup, None);
    }

    #[test]
    fn jsonl_rows_read_like_csv_rows() {
        let text = r#"{"mac":"0011.2233.4455","phone_status":"failed","key_backup":"no"}
{"name":"SEP001122334466","phone_itl_hash":null,"key_backup":"no","room":12}
"#;
        let inv = parse(text, Path::new("")).expect("parses");
        assert_eq!(inv.rows.len(), 2);
        assert_eq!(inv.rows[1].line, 2);
        assert_eq!(inv.key_backup, Some(KeyBackup::No));
        assert_eq!(inv.ignored_columns, vec!["room".to_string()]);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let e = parse(
            "mac,phone_status\n001122334455,failed\nnot-a-mac,ok\n",
            Path::new(""),
        )
        .unwrap_err();
        assert_eq!(e.to_string().split(':').next(), Some("line 3, column mac"));
        let e = parse("mac,phone_status\n001122334455,maybe\n", Path::new("")).unwrap_err();
        assert!(
            e.to_string().starts_with("line 2, column phone_status"),
            "{e}"
        );
        let e = parse(
            "mac,phone_status\n001122334455,ok\nSEP001122334455,failed\n",
            Path::new(""),
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                InventoryError::Duplicate {
                    first: 2,
                    second: 3,
                    ..
                }
            ),
            "{e}"
        );
        let e = parse(
            "mac,key_backup\n001122334455,yes\n001122334466,no\n",
            Path::new(""),
        )
        .unwrap_err();
        assert!(e.to_string().contains("the cluster's"), "{e}");
        let e = parse("mac,phone_status\n001122334455\n", Path::new("")).unwrap_err();
        assert!(e.to_string().starts_with("line 2"), "{e}");
        let e = parse("{\"mac\": 1\n", Path::new("")).unwrap_err();
        assert!(
            e.to_string().starts_with("line 1: not a JSON object"),
            "{e}"
        );
    }

    #[test]
    fn option_spellings_are_columns() {
        for h in [
            "--phone-itl-hash",
            "Phone_ITL_Hash",
            "phone-itl-hash",
            "itl_hash",
        ] {
            assert_eq!(column(h), Some(Column::Hash), "{h}");
        }
        assert_eq!(column("comment"), None);
        assert_eq!(mac_of("sep00aabbccddee").as_deref(), Some("00AABBCCDDEE"));
        assert_eq!(mac_of("00-AA-BB-CC-DD-EE").as_deref(), Some("00AABBCCDDEE"));
        assert_eq!(mac_of("SEP00AABBCCDD"), None);
    }
}
