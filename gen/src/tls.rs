//! TLS byte builders: handshake messages and records, written by hand so tests control every
//! length (messages split across records, records split across segments, bad lengths).

/// Record content types.
pub mod content {
    /// ChangeCipherSpec.
    pub const CCS: u8 = 20;
    /// Alert.
    pub const ALERT: u8 = 21;
    /// Handshake.
    pub const HANDSHAKE: u8 = 22;
    /// Application data.
    pub const APPLICATION_DATA: u8 = 23;
}

fn u24(n: usize) -> [u8; 3] {
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

/// A handshake message: type, 24-bit length, body.
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![msg_type];
    v.extend_from_slice(&u24(body.len()));
    v.extend_from_slice(body);
    v
}

fn extension(ext_type: u16, data: &[u8]) -> Vec<u8> {
    let mut v = ext_type.to_be_bytes().to_vec();
    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// A ClientHello offering `legacy_version`, `ciphers`, and optionally `supported_versions`
/// and an SNI host name.
pub fn client_hello(
    legacy_version: u16,
    ciphers: &[u16],
    supported_versions: &[u16],
    sni: Option<&str>,
) -> Vec<u8> {
    let mut b = legacy_version.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x11; 32]); // random
    b.push(0); // session id
    b.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        b.extend_from_slice(&c.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]); // null compression
    let mut exts = Vec::new();
    if let Some(name) = sni {
        let mut entry = vec![0u8];
        entry.extend_from_slice(&(name.len() as u16).to_be_bytes());
        entry.extend_from_slice(name.as_bytes());
        let mut list = (entry.len() as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&entry);
        exts.extend(extension(0, &list));
    }
    if !supported_versions.is_empty() {
        let mut d = vec![(supported_versions.len() * 2) as u8];
        for v in supported_versions {
            d.extend_from_slice(&v.to_be_bytes());
        }
        exts.extend(extension(43, &d));
    }
    if !exts.is_empty() {
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(&exts);
    }
    handshake(1, &b)
}

/// A ServerHello choosing `cipher`; with `supported_version` set (e.g. 0x0304) the
/// `supported_versions` extension carries it, as TLS 1.3 does.
pub fn server_hello(legacy_version: u16, cipher: u16, supported_version: Option<u16>) -> Vec<u8> {
    let mut b = legacy_version.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x22; 32]);
    b.push(0);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    if let Some(v) = supported_version {
        let e = extension(43, &v.to_be_bytes());
        b.extend_from_slice(&(e.len() as u16).to_be_bytes());
        b.extend_from_slice(&e);
    }
    handshake(2, &b)
}

/// A (TLS ≤ 1.2) Certificate message carrying `chain`, leaf first.
pub fn certificate(chain: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in chain {
        list.extend_from_slice(&u24(c.len()));
        list.extend_from_slice(c);
    }
    let mut b = u24(list.len()).to_vec();
    b.extend_from_slice(&list);
    handshake(11, &b)
}

/// ServerHelloDone.
pub fn server_hello_done() -> Vec<u8> {
    handshake(14, &[])
}

/// Wraps `payload` in records of `content_type`, at most `max_fragment` payload bytes each.
pub fn records(content_type: u8, version: u16, payload: &[u8], max_fragment: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for chunk in payload.chunks(max_fragment.max(1)) {
        v.push(content_type);
        v.extend_from_slice(&version.to_be_bytes());
        v.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        v.extend_from_slice(chunk);
    }
    v
}

/// One alert record.
pub fn alert(version: u16, level: u8, description: u8) -> Vec<u8> {
    records(content::ALERT, version, &[level, description], 16)
}

/// One ChangeCipherSpec record.
pub fn change_cipher_spec(version: u16) -> Vec<u8> {
    records(content::CCS, version, &[1], 16)
}

/// One record of `len` opaque bytes of `content_type` (encrypted Finished, app data…).
pub fn opaque(content_type: u8, version: u16, len: usize) -> Vec<u8> {
    records(content_type, version, &vec![0xab; len], len.max(1))
}

/// DER certificates found inside `bytes` (e.g. a trust list): every `SEQUENCE` with a
/// two-byte length whose content starts with another two-byte-length `SEQUENCE`.
pub fn der_certificates_in(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 8 <= bytes.len() {
        if bytes[i] == 0x30 && bytes[i + 1] == 0x82 && bytes[i + 4] == 0x30 && bytes[i + 5] == 0x82
        {
            let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
            if let Some(der) = bytes.get(i..i + 4 + len) {
                out.push(der.to_vec());
                i += 4 + len;
                continue;
            }
        }
        i += 1;
    }
    out
}
