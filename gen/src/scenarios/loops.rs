//! Phones that do not get past their trust bootstrap: a boot loop (the same short list of
//! files again and again, about every 45 s) and downloads that stall mid-transfer because
//! full-size frames are dropped between phone and server.

use super::boot::{StallStep, Step};
use super::cluster::Cluster;
use super::common::{config_fetch, ctl_name, itl_name, sgn_name, trust_list_fetches, tvs_rejected};
use super::phone::Phone;
use crate::conv::SEC;
use crate::tls::alert;

/// Boots of a phone whose ITL no longer trusts `new`'s signer nor its TVS: each cycle asks
/// for CTLSEP, ITLSEP, TVS (rejected) and the signed config, then starts over after
/// `pause_s` seconds.
pub fn boot_loop_steps(
    phone: &Phone,
    new: &Cluster,
    cycles: u32,
    pause_s: i64,
    seed: u64,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let itl = new.itl();
    for i in 0..cycles {
        steps.extend(trust_list_fetches(phone, &new.node, &itl));
        steps.push(tvs_rejected(
            phone,
            new,
            new,
            Some(alert::UNKNOWN_CA),
            false,
            600,
            seed + u64::from(i),
        ));
        steps.extend(config_fetch(phone, new));
        if i + 1 < cycles {
            steps.push(Step::Pause(pause_s * SEC));
        }
    }
    steps
}

/// Boots of a phone behind a path that drops 1500-byte frames: the CTL "not found" answers
/// get through, the ITL stalls over HTTP and again over TFTP (blksize 1468), the signed
/// config stalls over HTTP; the phone starts over after `pause_s` seconds.
pub fn stall_steps(phone: &Phone, c: &Cluster, cycles: u32, pause_s: i64) -> Vec<Step> {
    let itl = c.itl();
    let config = c.config_sgn(phone, false, 0);
    let stalled = |name: String, body: &[u8], tftp: bool| {
        Step::Stalled(StallStep {
            server: c.node,
            name,
            body: body.to_vec(),
            tftp,
            delivered: if tftp { 0 } else { 256 },
            retries: 2,
        })
    };
    let mut steps = Vec::new();
    for i in 0..cycles {
        steps.extend(super::boot::fetch(
            phone,
            &c.node,
            &ctl_name(phone),
            None,
            404,
        ));
        if phone.http_first {
            steps.push(stalled(itl_name(phone), &itl, false));
        }
        steps.push(stalled(itl_name(phone), &itl, true));
        steps.push(stalled(sgn_name(phone), &config, !phone.http_first));
        if i + 1 < cycles {
            steps.push(Step::Pause(pause_s * SEC));
        }
    }
    steps
}
