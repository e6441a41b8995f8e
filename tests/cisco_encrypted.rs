//! Encrypted configs (`SEP<MAC>.cnf.xml.enc.sgn`, trust-list-format.md §8) built by
//! `itlscope-gen`: the parser gives back every encryption field that was built, the test
//! device key decrypts the payload to the XML whose hash tag 27 carries, the signature over
//! the whole file verifies against the ITL and no flipped byte does, and `show` prints the
//! encryption elements (text and `--json`).

use assert_cmd::Command;
use itlscope::cisco::encrypted::{NOT_DECRYPTABLE, plaintext_len, problems};
use itlscope::cisco::model::{FileFormat, SignatureCheck, function};
use itlscope::cisco::signed::parse_signed_file;
use itlscope::cisco::trustlist::parse_trust_list;
use itlscope::cisco::verify::{CONFIG_SIGNERS, verify_with_trust};
use itlscope::cisco::{ParsedFile, detect_format, parse_any};
use itlscope_gen::pki::{CertSpec, ClusterCerts, Digest, KeyName};
use itlscope_gen::trustlist::{
    EncryptedConfigBuilder, RecordSpec, Signer, StubConfig, TrustListBuilder, decrypt_payload,
    encrypted_config_stub_xml, signed_file,
};
use md5::Md5;
use sha1::{Digest as _, Sha1};
use sha2::Sha512;

const HOST: &str = "cucm-pub.example.com";
const ENC_NAME: &str = "SEP001122334455.cnf.xml.enc.sgn";

fn xml() -> Vec<u8> {
    let mut x =
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<device>\n<fullConfig>true</fullConfig>\n"
            .to_vec();
    for line in 0..40 {
        x.extend_from_slice(
            format!("<vendorConfig><k{line}>{line}</k{line}></vendorConfig>\n").as_bytes(),
        );
    }
    x.extend_from_slice(b"</device>\n");
    x
}

fn builder(certs: &ClusterCerts) -> EncryptedConfigBuilder {
    EncryptedConfigBuilder::new(
        ENC_NAME,
        Signer::from_cert(&certs.callmanager),
        KeyName::Phone,
    )
    .aes_key(*b"0123456789abcdef")
    .iv([0x5a; 16])
}

fn itl(certs: &ClusterCerts) -> Vec<u8> {
    TrustListBuilder::new("ITLFile.tlv", Signer::from_cert(&certs.itl_recovery))
        .record(RecordSpec::from_cert(function::SAST, &certs.itl_recovery))
        .record(RecordSpec::from_cert(
            function::CCM_TFTP,
            &certs.callmanager,
        ))
        .record(RecordSpec::from_cert(function::TVS, &certs.tvs).hash_only())
        .build()
}

#[test]
fn parse_gives_back_what_was_built_and_the_device_key_decrypts_it() {
    let certs = ClusterCerts::new(HOST);
    for hash in [Digest::Sha1, Digest::Sha512] {
        let b = builder(&certs).hash(hash);
        let xml = xml();
        let bytes = b.build(&xml);
        assert_eq!(detect_format(&bytes), Some(FileFormat::Signed));
        assert!(matches!(parse_any(&bytes), Ok(ParsedFile::Signed(_))));
        let sf = parse_signed_file(&bytes).expect("parses");
        assert_eq!(sf.header.version, (2, 0));
        assert_eq!(sf.header.filename, Some(ENC_NAME.as_bytes()));
        assert_eq!(sf.header.header_length % 4, 0);
        let info = sf.encryption.as_ref().expect("encryption elements");
        let pad = 16 - xml.len() % 16;
        assert_eq!(info.unknown1, Some(0));
        assert_eq!(info.iv, Some(&[0x5a; 16][..]));
        assert_eq!(info.padding, Some(u16::try_from(pad).expect("small")));
        assert_eq!(info.unknown2, Some(0));
        assert_eq!(info.key_size, Some(2048));
        assert_eq!(info.key_algorithm, Some(1));
        assert_eq!(info.encrypted_key, Some(&b.encrypted_key()[..]));
        assert_eq!(info.hash_algorithm, Some(hash.code()));
        assert_eq!(sf.payload.len(), xml.len() + pad);
        assert!(problems(info, sf.payload.len()).is_empty());
        assert_eq!(plaintext_len(info, sf.payload.len()), Some(xml.len()));

        // The phone's side, with the test device key.
        let key = KeyName::Phone
            .key()
            .decrypt_pkcs1v15(info.encrypted_key.expect("key"))
            .expect("the device key decrypts tag 25");
        let key: [u8; 16] = key.try_into().expect("an AES-128 key");
        assert_eq!(&key, b"0123456789abcdef");
        let iv: [u8; 16] = info.iv.expect("iv").try_into().expect("16 bytes");
        let mut plain = decrypt_payload(&key, &iv, sf.payload).expect("whole blocks");
        let pad = usize::from(info.padding.expect("padding"));
        assert!(plain[plain.len() - pad..].iter().all(|&b| b == 0x0D));
        plain.truncate(plain.len() - pad);
        assert_eq!(plain, xml);
        let expected_hash = match hash {
            Digest::Sha512 => Sha512::digest(&plain).to_vec(),
            _ => Sha1::digest(&plain).to_vec(),
        };
        assert_eq!(info.hash, Some(&expected_hash[..]));
    }
}

#[test]
fn signature_covers_the_whole_file_and_flips_break_it() {
    let certs = ClusterCerts::new(HOST);
    let bytes = builder(&certs).build(&xml());
    let itl_bytes = itl(&certs);
    let trust = parse_trust_list(&itl_bytes).expect("ITL parses");
    let check = |b: &[u8]| {
        parse_signed_file(b).map(|sf| verify_with_trust(b, &sf.header, &trust, &CONFIG_SIGNERS))
    };
    assert_eq!(
        check(&bytes),
        Ok(SignatureCheck::Valid { signer_record: 1 })
    );
    let sf = parse_signed_file(&bytes).expect("parses");
    let (sig_at, sig) = sf.header.signature.expect("signed");
    // Every byte of the header outside the signature value (encryption elements included),
    // and every 7th of the ciphertext.
    let header_len = usize::from(sf.header.header_length);
    let positions = (0..header_len)
        .filter(|&p| !(sig_at + 3..sig_at + 3 + sig.len()).contains(&p))
        .chain((header_len..bytes.len()).step_by(7));
    let mut flipped = 0;
    for pos in positions {
        let mut copy = bytes.clone();
        copy[pos] ^= 0x01;
        assert!(
            !matches!(check(&copy), Ok(SignatureCheck::Valid { .. })),
            "flip at {pos} still verifies"
        );
        flipped += 1;
    }
    assert!(flipped > 500);
    // A flipped signature byte does not verify either.
    let mut copy = bytes.clone();
    copy[sig_at + 3 + 17] ^= 0x80;
    assert!(!matches!(check(&copy), Ok(SignatureCheck::Valid { .. })));
}

#[test]
fn companion_sgn_names_the_device_certificate() {
    let certs = ClusterCerts::new(HOST);
    let ca = CertSpec::manufacturing_ca().self_signed();
    let mic = CertSpec::phone_mic("8845", "SEP001122334455", &[0x7a, 0x55]).issued_by(&ca);
    let stub = encrypted_config_stub_xml(&StubConfig {
        load_information: "sip8845_65.14-2-1-0001-14",
        capf_host: HOST,
        device_cert_der: &mic.der,
    });
    let bytes = signed_file(
        "SEP001122334455.cnf.xml.sgn",
        &stub,
        Signer::from_cert(&certs.callmanager),
        Digest::Sha1,
    );
    let sf = parse_signed_file(&bytes).expect("parses");
    assert_eq!(sf.encryption, None);
    assert_eq!(sf.payload, &stub[..]);
    let text = String::from_utf8_lossy(sf.payload);
    let md5: String = Md5::digest(&mic.der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        text.contains(&format!("<certHash>{md5}</certHash>")),
        "{text}"
    );
    assert!(text.contains("<encrConfig>true</encrConfig>"));
}

#[test]
fn show_prints_the_encryption_elements() {
    let certs = ClusterCerts::new(HOST);
    let xml = xml();
    let b = builder(&certs);
    let bytes = b.build(&xml);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(ENC_NAME);
    std::fs::write(&path, &bytes).expect("write");
    let path = path.to_str().expect("utf-8");

    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .args(["show", "--json", path])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["format"], "signed");
    assert_eq!(v["version"], "2.0");
    assert_eq!(v["payload"]["kind"], "encrypted");
    let e = &v["encryption"];
    assert_eq!(e["iv"], hex::encode([0x5a; 16]));
    assert_eq!(e["padding"], 16 - xml.len() % 16);
    assert_eq!(e["key_size"], 2048);
    assert_eq!(e["key_algorithm"], "aes-128");
    assert_eq!(e["key_algorithm_code"], 1);
    assert_eq!(e["encrypted_key"], hex::encode(b.encrypted_key()));
    assert_eq!(e["encrypted_key_length"], 256);
    assert_eq!(e["hash_algorithm"], "sha1");
    assert_eq!(e["hash_algorithm_code"], 1);
    assert_eq!(e["hash"], hex::encode(Sha1::digest(&xml)));
    assert_eq!(e["plaintext_length"], xml.len());
    assert_eq!(e["decryptable"], false);
    assert_eq!(e["detail"], NOT_DECRYPTABLE);
    assert_eq!(e["problems"], serde_json::json!([]));

    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .args(["show", path])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("25  ENCRYPTIONKEY"), "{text}");
    assert!(text.contains("Padding:"), "{text}");
    assert!(
        text.contains("RSA-encrypted to a 2048-bit phone key (256 bytes)"),
        "{text}"
    );
    assert!(
        text.contains("payload encrypted to the phone's key; not decryptable here"),
        "{text}"
    );

    // A plain signed file has no encryption object.
    let plain = dir.path().join("plain.sgn");
    std::fs::write(
        &plain,
        signed_file(
            "x.sgn",
            b"<x/>",
            Signer::from_cert(&certs.callmanager),
            Digest::Sha1,
        ),
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .args(["show", "--json", plain.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["encryption"], serde_json::Value::Null);

    // verify against the ITL: trusted, signed by the CCM+TFTP record.
    let itl_path = dir.path().join("ITLFile.tlv");
    std::fs::write(&itl_path, itl(&certs)).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .args(["verify", path, "--trust", itl_path.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("trusted: signed by record #2 (CCM+TFTP"),
        "{text}"
    );
}

/// The `encrypted-config.pcap` scenario serves a real `.enc.sgn`: extracted from the
/// committed capture, it decrypts with the phone's MIC key to the XML its tag 27 hashes, and
/// the companion `.sgn` before it names that MIC by MD5.
#[test]
fn scenario_capture_serves_a_decryptable_enc_sgn() {
    use itlscope_gen::scenarios::phone::Phone;
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = format!(
        "{}/captures/encrypted-config.pcap",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .args([
            "extract",
            "-o",
            dir.path().to_str().expect("utf-8"),
            &capture,
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let phone = Phone::cp8845(0x22, "192.0.2.22");
    let mic = phone.mic();

    let enc = std::fs::read(dir.path().join("SEP00005E005322.cnf.xml.enc.sgn")).expect("extracted");
    let sf = parse_signed_file(&enc).expect("parses");
    let info = sf.encryption.as_ref().expect("encryption elements");
    assert!(problems(info, sf.payload.len()).is_empty());
    let key = mic
        .rsa_key()
        .decrypt_pkcs1v15(info.encrypted_key.expect("key"))
        .expect("the MIC key decrypts tag 25");
    let key: [u8; 16] = key.try_into().expect("AES-128");
    let iv: [u8; 16] = info.iv.expect("iv").try_into().expect("16 bytes");
    let mut plain = decrypt_payload(&key, &iv, sf.payload).expect("whole blocks");
    plain.truncate(plaintext_len(info, sf.payload.len()).expect("consistent"));
    assert!(plain.starts_with(b"<?xml"));
    assert!(plain.ends_with(b"</device>\n"));
    assert_eq!(info.hash, Some(&Sha1::digest(&plain)[..]));

    let stub = std::fs::read(dir.path().join("SEP00005E005322.cnf.xml.sgn")).expect("extracted");
    let stub = parse_signed_file(&stub).expect("parses");
    assert_eq!(stub.encryption, None);
    let md5: String = Md5::digest(&mic.der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let text = String::from_utf8_lossy(stub.payload);
    assert!(
        text.contains(&format!("<certHash>{md5}</certHash>")),
        "{text}"
    );
    assert!(text.contains("<encrConfig>true</encrConfig>"), "{text}");
}
