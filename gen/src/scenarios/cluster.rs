//! A CUCM cluster as the phones see it: its node address, certificates, the ITL its TFTP
//! service serves and the phone configs it signs. Built only from [`crate::pki`] and
//! [`crate::trustlist`] (one builder of each kind).

use crate::conv::Host;
use crate::pki::{Cert, CertSpec, ClusterCerts, Digest, Dn, KeyName};
use crate::trustlist::{
    EncryptedConfigBuilder, RecordSpec, Signer, StubConfig, TrustListBuilder,
    encrypted_config_stub_xml, function, signed_file,
};
use std::net::{IpAddr, Ipv4Addr};
use time::OffsetDateTime;

use super::phone::Phone;

/// Which certificate signs the ITL (phone-behaviour.md §0.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItlSigner {
    /// CUCM before 12.0: the TFTP node's CallManager certificate (SAST record), with an
    /// ITLRecovery SAST record next to it.
    CallManager,
    /// CUCM 12.0 and later: ITLRecovery.
    ItlRecovery,
}

/// Another node of the cluster running CallManager and TVS (a subscriber).
#[derive(Debug, Clone)]
pub struct Subscriber {
    /// Host name.
    pub hostname: String,
    /// The node as the phones reach it.
    pub node: Host,
    /// Its TVS certificate (listed in the ITL as a TVS record).
    pub tvs: Cert,
    /// Whether it is a member of the phones' CallManager group: only then is it in the
    /// config's CallManager group and TVS list, so only then does a phone ask its TVS
    /// (statement 31).
    pub in_group: bool,
}

impl Subscriber {
    /// The short node name used as DNSNAME in the ITL.
    pub fn short_name(&self) -> &str {
        self.hostname.split('.').next().unwrap_or(&self.hostname)
    }
}

/// A cluster: a publisher running TFTP, TVS and Tomcat, and possibly subscribers running
/// CallManager and TVS.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Publisher host name.
    pub hostname: String,
    /// The node as the phones reach it (MAC = the phones' default gateway).
    pub node: Host,
    /// Its certificates.
    pub certs: ClusterCerts,
    /// Who signs the ITL.
    pub signer: ItlSigner,
    /// Serve the empty "rollback" ITL instead of the real one.
    pub rollback: bool,
    /// Other nodes running TVS (empty: a single-node cluster).
    pub subscribers: Vec<Subscriber>,
}

/// The MAC of the phones' default gateway: every off-subnet server is seen behind it.
pub const GATEWAY_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01];

fn ipv4_of(host: &Host) -> Ipv4Addr {
    match host.ip {
        IpAddr::V4(v) => v,
        // Trust-list records hold IPv4 only; an IPv6 node keeps its documentation IPv4.
        IpAddr::V6(_) => Ipv4Addr::new(198, 51, 100, 10),
    }
}

impl Cluster {
    /// A cluster whose certificates are the pki defaults for `hostname`.
    pub fn new(hostname: &str, ip: &str, signer: ItlSigner) -> Self {
        Cluster {
            hostname: hostname.to_owned(),
            node: Host::new(GATEWAY_MAC, ip),
            certs: ClusterCerts::new(hostname),
            signer,
            rollback: false,
            subscribers: Vec::new(),
        }
    }

    /// The short node name used as DNSNAME in the ITL.
    pub fn short_name(&self) -> &str {
        self.hostname.split('.').next().unwrap_or(&self.hostname)
    }

    /// The CallManager certificate regenerated (new key and serial, same name).
    pub fn regenerate_callmanager(mut self) -> Self {
        self.certs.callmanager = CertSpec::callmanager(&self.hostname)
            .with_key(KeyName::CallManagerRegenerated)
            .with_serial(&[0x4f, 0x1a, 0x22, 0x90, 0x3c, 0x7e, 0x55, 0x01, 0xa2, 0x13])
            .with_validity(
                time::macros::datetime!(2026-02-20 08:00:00 UTC),
                time::macros::datetime!(2031-02-19 08:00:00 UTC),
            )
            .self_signed();
        self
    }

    /// The TVS certificate regenerated (new key and serial, same name).
    pub fn regenerate_tvs(mut self) -> Self {
        self.certs.tvs = CertSpec::tvs(&self.hostname)
            .with_key(KeyName::TvsRegenerated)
            .with_serial(&[0x6c, 0x02, 0x9e, 0x41, 0xb7, 0x30, 0x0d, 0x5a])
            .with_validity(
                time::macros::datetime!(2026-02-20 08:05:00 UTC),
                time::macros::datetime!(2031-02-19 08:05:00 UTC),
            )
            .self_signed();
        self
    }

    /// Replaces the TVS certificate's validity (the same key and serial).
    pub fn tvs_validity(mut self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        self.certs.tvs = CertSpec::tvs(&self.hostname)
            .with_validity(not_before, not_after)
            .self_signed();
        self
    }

    /// Replaces the ITLRecovery certificate.
    pub fn with_itl_recovery(mut self, cert: Cert) -> Self {
        self.certs.itl_recovery = cert;
        self
    }

    /// The cluster's ITL (`ITLFile.tlv`, also served as `ITLSEP<MAC>.tlv`).
    pub fn itl(&self) -> Vec<u8> {
        let c = &self.certs;
        let signer_cert = match self.signer {
            ItlSigner::CallManager => &c.callmanager,
            ItlSigner::ItlRecovery => &c.itl_recovery,
        };
        let ip = ipv4_of(&self.node);
        let name = self.short_name();
        let rec = |f: u16, cert: &Cert| RecordSpec::from_cert(f, cert).dns_name(name).ip(ip);
        let builder = TrustListBuilder::new("ITLFile.tlv", Signer::from_cert(signer_cert));
        if self.rollback {
            return builder
                .record(RecordSpec::rollback(function::SAST))
                .record(RecordSpec::rollback(function::CCM_TFTP))
                .record(RecordSpec::rollback(function::TVS))
                .record(RecordSpec::rollback(function::CAPF))
                .build();
        }
        let builder = match self.signer {
            ItlSigner::CallManager => builder
                .record(rec(function::SAST, &c.callmanager))
                .record(rec(function::CCM_TFTP, &c.callmanager))
                .record(rec(function::SAST, &c.itl_recovery)),
            ItlSigner::ItlRecovery => builder
                .record(rec(function::SAST, &c.itl_recovery))
                .record(rec(function::CCM_TFTP, &c.callmanager)),
        };
        let builder = builder.record(rec(function::TVS, &c.tvs).hash_only());
        // Every TVS of the cluster is in the ITL, whatever CallManager group a phone is in.
        let builder = self.subscribers.iter().fold(builder, |b, sub| {
            b.record(
                RecordSpec::from_cert(function::TVS, &sub.tvs)
                    .dns_name(sub.short_name())
                    .ip(ipv4_of(&sub.node))
                    .hash_only(),
            )
        });
        builder
            .record(rec(function::CAPF, &c.capf).hash_only())
            .build()
    }

    /// The cluster's CTL (`CTLFile.tlv`, mixed mode) as the CTL client writes it: a SAST
    /// record per eToken, the CCM+TFTP record of the publisher's CallManager certificate
    /// as it was when the client ran, CAPF; signed by `signer` (one of the eTokens).
    pub fn ctl(&self, etokens: &[Cert], signer: &Cert) -> Vec<u8> {
        let ip = ipv4_of(&self.node);
        let name = self.short_name();
        let builder = etokens.iter().fold(
            TrustListBuilder::new("CTLFile.tlv", Signer::from_cert(signer)),
            |b, token| b.record(RecordSpec::from_cert(function::SAST, token)),
        );
        builder
            .record(
                RecordSpec::from_cert(function::CCM_TFTP, &self.certs.callmanager)
                    .dns_name(name)
                    .ip(ip),
            )
            .record(
                RecordSpec::from_cert(function::CAPF, &self.certs.capf)
                    .dns_name(name)
                    .ip(ip),
            )
            .build()
    }

    /// The config's extra `<member>`s of the CallManager group (`cm`) and of the TVS list
    /// (`tvs`): the subscribers in the phones' group, after the publisher.
    fn group_members(&self) -> (String, String) {
        let mut cm = String::new();
        let mut tvs = String::new();
        for (i, sub) in self.subscribers.iter().filter(|s| s.in_group).enumerate() {
            cm.push_str(&format!(
                "<member priority=\"{p}\">\n\
                 <callManager>\n\
                 <name>{short}</name>\n\
                 <ports><ethernetPhonePort>2000</ethernetPhonePort><sipPort>5060</sipPort><securedSipPort>5061</securedSipPort></ports>\n\
                 <processNodeName>{host}</processNodeName>\n\
                 </callManager>\n\
                 </member>\n",
                p = i + 1,
                short = sub.short_name(),
                host = sub.hostname,
            ));
            tvs.push_str(&format!(
                "<member priority=\"{p}\">\n<port>2445</port>\n<address>{host}</address>\n</member>\n",
                p = i + 1,
                host = sub.hostname,
            ));
        }
        (cm, tvs)
    }

    /// The phone's full configuration XML (`SEP<MAC>.cnf.xml`); `pad_to` grows it with
    /// vendor-config lines, as a config with many lines and softkeys is.
    pub fn config_xml(&self, phone: &Phone, encrypted: bool, pad_to: usize) -> Vec<u8> {
        let host = &self.hostname;
        let (cm_members, tvs_members) = self.group_members();
        let mut x = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <device xsi:type=\"axl:XIPPhone\" ctiid=\"{ctiid}\" uuid=\"{{5e0053{mac_lower}}}\">\n\
             <fullConfig>{full}</fullConfig>\n\
             <deviceProtocol>SIP</deviceProtocol>\n\
             <sshUserId></sshUserId>\n\
             <ipAddressMode>0</ipAddressMode>\n\
             <devicePool uuid=\"{{1b1b9eb6-7803-11d3-bdf0-00108302ead1}}\">\n\
             <revertPriority>0</revertPriority>\n\
             <name>Default</name>\n\
             <dateTimeSetting uuid=\"{{9ec4850a-7748-11d3-bdf0-00108302ead1}}\">\n\
             <name>CMLocal</name>\n\
             <dateTemplate>M/D/Y</dateTemplate>\n\
             <timeZone>Greenwich Standard Time</timeZone>\n\
             </dateTimeSetting>\n\
             <callManagerGroup>\n\
             <name>Default</name>\n\
             <tftpDefault>true</tftpDefault>\n\
             <members>\n\
             <member priority=\"0\">\n\
             <callManager>\n\
             <name>{short}</name>\n\
             <ports><ethernetPhonePort>2000</ethernetPhonePort><sipPort>5060</sipPort><securedSipPort>5061</securedSipPort></ports>\n\
             <processNodeName>{host}</processNodeName>\n\
             </callManager>\n\
             </member>\n\
             {cm_members}\
             </members>\n\
             </callManagerGroup>\n\
             </devicePool>\n\
             <TVS>\n\
             <members>\n\
             <member priority=\"0\">\n\
             <port>2445</port>\n\
             <address>{host}</address>\n\
             </member>\n\
             {tvs_members}\
             </members>\n\
             </TVS>\n\
             <loadInformation>{load}</loadInformation>\n\
             <capfAuthMode>0</capfAuthMode>\n\
             <capfList><capf><phonePort>3804</phonePort><processNodeName>{host}</processNodeName></capf></capfList>\n\
             <encrConfig>{enc}</encrConfig>\n\
             <directoryURL>https://{host}:8443/ccmcip/xmldirectory.jsp</directoryURL>\n\
             <servicesURL>https://{host}:8443/ccmcip/getservicesmenu.jsp</servicesURL>\n\
             <idleTimeout>0</idleTimeout>\n\
             <authenticationURL>https://{host}:8443/ccmcip/authenticate.jsp</authenticationURL>\n\
             <userLocale><name>English_United_States</name><langCode>en_US</langCode></userLocale>\n\
             <networkLocale>United_States</networkLocale>\n",
            ctiid = 40 + u32::from(phone.mac[5]),
            mac_lower = phone.mac_hex().to_ascii_lowercase(),
            full = !encrypted || pad_to == 0,
            short = self.short_name(),
            load = phone.load,
            enc = encrypted,
        )
        .into_bytes();
        let mut line = 0u32;
        let tail = b"</device>\n";
        while x.len() + tail.len() < pad_to {
            let entry = format!(
                "<vendorConfig><lineKey{line}>speeddial;{n};Ext {n}</lineKey{line}></vendorConfig>\n",
                n = 2000 + line
            );
            x.extend_from_slice(entry.as_bytes());
            line += 1;
        }
        x.extend_from_slice(tail);
        x
    }

    /// `SEP<MAC>.cnf.xml.sgn`: the config signed by the CallManager (TFTP) key.
    pub fn config_sgn(&self, phone: &Phone, encrypted: bool, pad_to: usize) -> Vec<u8> {
        let name = format!("{}.cnf.xml.sgn", phone.device_name());
        signed_file(
            &name,
            &self.config_xml(phone, encrypted, pad_to),
            Signer::from_cert(&self.certs.callmanager),
            Digest::Sha1,
        )
    }

    /// `SEP<MAC>.cnf.xml.enc.sgn` (certutils `enccnf` layout): the full config AES-128-CBC
    /// encrypted, the AES key RSA-encrypted to the phone's MIC key, signed by the
    /// CallManager (TFTP) key.
    pub fn config_enc_sgn(&self, phone: &Phone) -> Vec<u8> {
        let name = format!("{}.cnf.xml.enc.sgn", phone.device_name());
        EncryptedConfigBuilder::new(
            &name,
            Signer::from_cert(&self.certs.callmanager),
            phone.mic().key,
        )
        .build(&self.config_xml(phone, false, 6000))
    }

    /// The reduced `SEP<MAC>.cnf.xml.sgn` served next to the `.enc.sgn`: `fullConfig` false,
    /// `encrConfig` true and the MD5 of the phone's MIC, signed by the CallManager key.
    pub fn config_stub_sgn(&self, phone: &Phone) -> Vec<u8> {
        let mic = phone.mic();
        let xml = encrypted_config_stub_xml(&StubConfig {
            load_information: &phone.load,
            capf_host: &self.hostname,
            device_cert_der: &mic.der,
        });
        signed_file(
            &format!("{}.cnf.xml.sgn", phone.device_name()),
            &xml,
            Signer::from_cert(&self.certs.callmanager),
            Digest::Sha1,
        )
    }

    /// The phone's LSC, issued by this cluster's CAPF (what it presents to TVS).
    pub fn phone_lsc(&self, phone: &Phone) -> Cert {
        let mut spec = CertSpec::new(
            &format!("CP-{}-{}", phone.model, phone.device_name()),
            KeyName::Rsa1024,
            &[0x3a, 0x10, phone.mac[4], phone.mac[5], 0x01],
        );
        spec.subject = Dn {
            cn: format!("CP-{}-{}", phone.model, phone.device_name()),
            ou: Some("VTG".into()),
            o: Some("Cisco Systems Inc.".into()),
            l: None,
            st: None,
            c: Some("US".into()),
        };
        spec.issued_by(&self.certs.capf)
    }
}
