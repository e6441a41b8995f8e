//! The genuine field files (tests/fixtures/real, copied from shared/samples/real) give exactly
//! the values their README lists.

use itlscope::cisco::model::{FileFormat, SignatureCheck, function};
use itlscope::cisco::signed::parse_signed_file;
use itlscope::cisco::trustlist::parse_trust_list;
use itlscope::cisco::verify::{signed_message, verify_signed_alone, verify_trust_list};
use itlscope::cisco::{FormatError, detect_format, serial_hex};
use sha1::{Digest, Sha1};
use std::net::Ipv4Addr;

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/real/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn text(bytes: Option<&[u8]>) -> &str {
    std::str::from_utf8(bytes.expect("present")).expect("utf-8")
}

#[test]
fn genuine_cucm_ctl() {
    let bytes = fixture("nikhilp93-CMPE202/SCFFile.tlv");
    assert_eq!(bytes.len(), 7166);
    assert_eq!(detect_format(&bytes), Some(FileFormat::Ctl));
    let tl = parse_trust_list(&bytes).expect("parses");
    let h = &tl.header;
    assert_eq!(tl.format, FileFormat::Ctl);
    assert_eq!(h.version, (1, 2));
    assert_eq!(h.header_length, 312);
    let dn = "CN=gigantic-6.cisco.com;OU=VTG;O=Alpha;L=SJ;ST=CA;C=US";
    assert_eq!(text(h.signer_name), dn);
    assert_eq!(text(h.signer_issuer), dn);
    assert_eq!(
        serial_hex(h.signer_serial.expect("serial")),
        "24491f10703fea9b"
    );
    assert_eq!(h.digest_algorithm, Some(1));
    assert_eq!(h.signature_algorithm, Some(0));
    assert_eq!(h.modulus_code, Some(1));
    let (sig_offset, sig) = h.signature.expect("signature");
    assert_eq!((sig_offset, sig.len()), (158, 128));
    assert_eq!(text(h.filename), "CTLFile.tlv");
    assert_eq!(h.timestamp, Some(0x554A_D7B7));
    assert_eq!(h.padding, 1);
    let pad = h.elements.iter().find(|e| e.tag == 0x0D).expect("padding");
    assert_eq!(pad.offset, 311);

    let expected = [
        (
            312,
            1147,
            function::SAST,
            "gigantic-6",
            "24491f10703fea9b",
            [10, 35, 48, 106],
        ),
        (
            1459,
            1147,
            function::CCM_TFTP,
            "gigantic-6",
            "24491f10703fea9b",
            [10, 35, 48, 106],
        ),
        (
            2606,
            1171,
            function::CCM_TFTP,
            "gigantic-7",
            "6330981c017c4743",
            [10, 35, 150, 151],
        ),
        (
            3777,
            1085,
            function::CAPF,
            "gigantic-6",
            "615dd8840a63eb4119be843e201550e0",
            [10, 35, 48, 106],
        ),
        (
            4862,
            1161,
            function::SAST,
            "gigantic-6",
            "5b7328d0a02932d816d59eeef6ec9d18",
            [10, 35, 48, 106],
        ),
        (
            6023,
            1143,
            function::CCM_TFTP,
            "ccm-sjcctg-013",
            "418c549abc251e2f2609ecf6a092d22f",
            [10, 32, 134, 77],
        ),
    ];
    assert_eq!(tl.records.len(), expected.len());
    for (record, (offset, length, func, dns, serial, ip)) in tl.records.iter().zip(expected) {
        assert_eq!(record.offset, offset);
        assert_eq!(record.length, length);
        assert_eq!(record.function, Some(func));
        assert_eq!(text(record.dns_name), dns);
        assert_eq!(serial_hex(record.serial.expect("serial")), serial);
        assert_eq!(record.ip_address, Some(Ipv4Addr::from(ip)));
        let tags: Vec<u8> = record.elements.iter().map(|e| e.tag).collect();
        assert_eq!(tags, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
    assert!(text(tl.records[4].subject).starts_with("CN=ITLRECOVERY_gigantic-6.cisco.com"));

    let (before, after) = signed_message(&bytes, h).expect("signed");
    assert_eq!((before.len(), after.len()), (158, 7166 - 289));
    let mut hasher = Sha1::new();
    hasher.update(before);
    hasher.update(after);
    assert_eq!(
        hex::encode(hasher.finalize()),
        "fa268ab1d9cf393332d159978cb185caeed0559c"
    );
    assert_eq!(
        verify_trust_list(&tl),
        SignatureCheck::Valid { signer_record: 0 }
    );

    assert_eq!(
        hex::encode(md5::Md5::digest(&bytes)),
        "0c43d702a9bc273d1ba7e9512877ab6a"
    );
    assert_eq!(
        hex::encode(Sha1::digest(&bytes)),
        "7bc2b30ebc2c52dcb6af9389af7a32e4a65be824"
    );
}

#[test]
fn tampered_ctl_is_rejected_at_record_5() {
    let bytes = fixture("nikhilp93-CMPE202/SCFFile-puny.tlv");
    let err = parse_trust_list(&bytes).expect_err("record 5 is broken");
    assert_eq!(err.record(), Some(5));
    let message = err.to_string();
    assert!(message.contains("4862"), "{message}");
    assert!(message.ends_with("(record #5)"), "{message}");
    assert!(matches!(
        err,
        FormatError::Overrun {
            scope_start: 4862,
            ..
        }
    ));
    // Still recognised as a (broken) trust list, not re-read as a signed file.
    assert_eq!(detect_format(&bytes), Some(FileFormat::Ctl));
}

#[test]
fn certutils_itl() {
    let bytes = fixture("csptechnologies-ciscoprovsionerweb/ITLFile.tlv");
    assert_eq!(detect_format(&bytes), Some(FileFormat::Itl));
    let tl = parse_trust_list(&bytes).expect("parses");
    let h = &tl.header;
    assert_eq!(h.version, (1, 2));
    assert_eq!(h.header_length, 388);
    assert_eq!(h.signer_version, Some((1, 0)));
    assert_eq!(text(h.signer_name), "CN=SAST,O=SAST,OU=SAST");
    assert_eq!(text(h.signer_issuer), "CN=SAST,O=SAST,OU=SAST");
    assert_eq!(
        serial_hex(h.signer_serial.expect("serial")),
        "6ba5de3a260b069337c75b38be3c2d74"
    );
    assert_eq!(
        (h.digest_algorithm, h.signature_algorithm, h.modulus_code),
        (Some(1), Some(0), Some(2))
    );
    let (sig_offset, sig) = h.signature.expect("signature");
    assert_eq!((sig_offset, sig.len()), (107, 256));
    assert_eq!(text(h.filename), "ITLFile.tlv");
    assert_eq!(h.timestamp, Some(0x6954_0B16));
    assert_eq!(h.padding, 0);
    let signer_id: Vec<u8> = h
        .elements
        .iter()
        .map(|e| e.tag)
        .filter(|t| (4..=6).contains(t))
        .collect();
    assert_eq!(signer_id, [4, 6, 5]);

    let expected = [
        (388, 1484, function::SAST),
        (1872, 1675, function::CCM),
        (3547, 1692, function::CCM),
        (5239, 2585, function::APP_SERVER),
        (7824, 2546, function::APP_SERVER),
    ];
    assert_eq!(tl.records.len(), expected.len());
    for (record, (offset, length, func)) in tl.records.iter().zip(expected) {
        assert_eq!(
            (record.offset, record.length, record.function),
            (offset, length, Some(func))
        );
        let tags: Vec<u8> = record.elements.iter().map(|e| e.tag).collect();
        assert_eq!(tags, [1, 3, 5, 6, 4, 7, 8, 9]);
        assert_eq!(record.dns_name, None);
        assert_eq!(record.ip_address, None);
    }
    let serial3 = tl.records[2].serial.expect("serial");
    assert_eq!(serial3.len(), 16);
    assert_eq!(serial_hex(serial3), "81a3951a5c4c1c9b7eb4b4f00b8d6e38");

    let (before, after) = signed_message(&bytes, h).expect("signed");
    assert_eq!((before.len(), after.len()), (107, 10370 - 366));
    let mut hasher = Sha1::new();
    hasher.update(before);
    hasher.update(after);
    assert_eq!(
        hex::encode(hasher.finalize()),
        "fef024dcb9386583eea1a6bcb0d7d5dc49762cb2"
    );
    assert_eq!(
        verify_trust_list(&tl),
        SignatureCheck::Valid { signer_record: 0 }
    );
}

fn firmware_header(path: &str, header_length: u16, filename: &str, padding: usize) -> Vec<u8> {
    let bytes = fixture(path);
    assert_eq!(detect_format(&bytes), Some(FileFormat::Signed), "{path}");
    let signed = parse_signed_file(&bytes).expect("parses");
    let h = &signed.header;
    assert_eq!(h.version, (1, 1));
    assert_eq!(h.header_length, header_length);
    assert_eq!(
        text(h.signer_name),
        "CN=someSigner;OU=someOrgUnit;O=someOrg"
    );
    assert_eq!(
        serial_hex(h.signer_serial.expect("serial")),
        "1234567890abcdef"
    );
    assert_eq!(text(h.signer_issuer), "CN=someCA;OU=someOrgUnit;O=someOrg");
    assert_eq!(
        (h.digest_algorithm, h.signature_algorithm, h.modulus_code),
        (Some(1), Some(0), Some(2))
    );
    let (sig_offset, sig) = h.signature.expect("signature");
    assert_eq!((sig_offset, sig.len()), (122, 256));
    assert_eq!(text(h.filename), filename);
    assert_eq!(h.timestamp, None);
    assert_eq!(h.padding, padding);
    assert!(signed.is_firmware_signed());
    assert!(matches!(
        verify_signed_alone(&signed),
        SignatureCheck::NotCheckable { .. }
    ));
    signed.payload.to_vec()
}

#[test]
fn firmware_sgn_header_excerpts() {
    let payload = firmware_header(
        "dkgroot-provision_sccp/BOOT69xx.0-0-0-14.zz.sgn.header-only",
        412,
        "BOOT69xx.0-0-0-14.zz.sgn",
        3,
    );
    assert!(payload.is_empty());
    let bytes = fixture("dkgroot-provision_sccp/BOOT69xx.0-0-0-14.zz.sgn.header-only");
    let pads: Vec<usize> = parse_signed_file(&bytes)
        .expect("parses")
        .header
        .elements
        .iter()
        .filter(|e| e.tag == 0x0D)
        .map(|e| e.offset)
        .collect();
    assert_eq!(pads, [409, 410, 411]);
    let payload = firmware_header(
        "dkgroot-provision_sccp/SCCP69xx.9-3-1-3.zz.sgn.header-only",
        408,
        "SCCP69xx.9-3-1-3.zz.sgn",
        0,
    );
    assert!(payload.is_empty());
}

#[test]
fn firmware_loads_files() {
    let payload = firmware_header(
        "dkgroot-provision_sccp/term45.default.loads",
        408,
        "term45.default.loads",
        3,
    );
    assert_eq!(payload.len(), 267);
    assert!(payload.starts_with(b"#\r\n# This file contains a list of archive image files"));
    let payload = firmware_header(
        "dkgroot-provision_sccp/SCCP6901.9-2-1-a.loads",
        408,
        "SCCP6901.9-2-1-a.loads",
        1,
    );
    assert_eq!(
        payload,
        b"KNL6901SCCP.9-2-1-a.zz.sgn\nAPP6901SCCP.9-2-1-a.zz.sgn\n"
    );
}
