//! IPv4 fragmentation and reassembly (RFC 791 §2.3, §3.2). A datagram longer than a link's
//! MTU travels in fragments that carry the same Identification, each with its data's
//! offset in the original and all but the last with More Fragments set; the receiver
//! gathers them until the holes are filled (RFC 815) or a timer gives up.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::time::Duration;

use super::{HEADER_LEN, Header, data, parse};

/// RFC 791 §3.2: every internet module must forward a 68-octet datagram unfragmented, so
/// no link has a smaller MTU.
pub const MIN_MTU: usize = 68;

/// The longest data a datagram can carry: its total length is a 16-bit field.
const MAX_DATA: usize = u16::MAX as usize - HEADER_LEN;

/// How long the fragments of one datagram wait for the rest (RFC 791 §3.2 suggests a
/// timer of 15 s; Linux waits 30 s).
pub const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Datagrams a reassembler gathers at once; past that, the oldest is given up.
pub const MAX_PENDING: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragmentError {
    #[error("not a well-formed IPv4 datagram")]
    Malformed,
    #[error("a datagram of {len} octets with Don't Fragment set does not fit the MTU of {mtu}")]
    DontFragment { len: usize, mtu: usize },
    #[error("an MTU of {mtu} octets is below the IPv4 minimum of {MIN_MTU}")]
    MtuTooSmall { mtu: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReassemblyError {
    #[error("not a well-formed IPv4 datagram")]
    Malformed,
    #[error(
        "a fragment at offset {offset} with More Fragments set carries {len} octets, not a multiple of 8"
    )]
    Misaligned { offset: usize, len: usize },
    #[error("a fragment ends at octet {end}, past the 65 515 octets a datagram can carry")]
    TooLong { end: usize },
    #[error("fragments of one datagram disagree on its length ({first} and {second} octets)")]
    LengthConflict { first: usize, second: usize },
}

/// Data octets each fragment but the last carries on a link of `mtu`: what fits behind
/// the header, rounded down to the 8-octet unit of the offset field.
pub fn fragment_room(mtu: usize) -> Result<usize, FragmentError> {
    if mtu < MIN_MTU {
        return Err(FragmentError::MtuTooSmall { mtu });
    }
    Ok((mtu - HEADER_LEN) & !7)
}

/// Packets a datagram carrying `data_len` octets becomes on a link of `mtu`: 1 when it
/// fits whole.
pub fn fragment_count(data_len: usize, mtu: usize) -> Result<usize, FragmentError> {
    if HEADER_LEN + data_len <= mtu {
        return Ok(1);
    }
    Ok(data_len.div_ceil(fragment_room(mtu)?))
}

/// Splits `datagram` into fragments that each fit `mtu`, in offset order; a datagram that
/// fits is returned whole. A fragment is split further keeping its offset and flag.
pub fn fragment(datagram: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, FragmentError> {
    let header = parse(datagram).ok_or(FragmentError::Malformed)?;
    let whole = data(datagram);
    if HEADER_LEN + whole.len() <= mtu {
        return Ok(vec![datagram[..HEADER_LEN + whole.len()].to_vec()]);
    }
    if header.dont_fragment {
        return Err(FragmentError::DontFragment {
            len: HEADER_LEN + whole.len(),
            mtu,
        });
    }
    let room = fragment_room(mtu)?;
    let pieces = whole.chunks(room);
    let last = pieces.len().saturating_sub(1);
    Ok(pieces
        .enumerate()
        .map(|(k, piece)| {
            Header {
                more_fragments: k < last || header.more_fragments,
                fragment_offset: header.fragment_offset + k * room,
                ..header
            }
            .datagram(piece)
        })
        .collect())
}

/// Identifies the fragments of one datagram (RFC 791 §3.2).
type Key = (Ipv4Addr, Ipv4Addr, u8, u16);

struct Partial {
    started: Duration,
    /// The header of the fragment at offset 0, once it came: the reassembled datagram
    /// takes its fields.
    first: Option<Header>,
    data: Vec<u8>,
    /// What has arrived, as sorted ranges that neither overlap nor touch.
    have: Vec<Range<usize>>,
    /// The data length, known from the fragment without More Fragments.
    total: Option<usize>,
}

impl Partial {
    fn add(&mut self, at: Range<usize>, bytes: &[u8]) {
        if self.data.len() < at.end {
            self.data.resize(at.end, 0);
        }
        self.data[at.clone()].copy_from_slice(bytes);
        let mut merged = at;
        self.have.retain(|r| {
            let joins = r.start <= merged.end && merged.start <= r.end;
            if joins {
                merged = merged.start.min(r.start)..merged.end.max(r.end);
            }
            !joins
        });
        let place = self.have.partition_point(|r| r.start < merged.start);
        self.have.insert(place, merged);
    }

    fn complete(&self) -> Option<(Header, &[u8])> {
        let total = self.total?;
        let first = self.first?;
        match self.have.as_slice() {
            [only] if *only == (0..total) => Some((first, self.data.get(..total)?)),
            _ => None,
        }
    }
}

/// What a reassembler has counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReassemblyCounters {
    pub fragments: u64,
    pub reassembled: u64,
    /// Datagrams given up because the rest did not come in time.
    pub timed_out: u64,
    /// Datagrams given up to make room for newer ones (`MAX_PENDING`).
    pub evicted: u64,
}

/// Gathers fragments into datagrams, as the receiving host's IP layer does.
pub struct Reassembler {
    pending: HashMap<Key, Partial>,
    timeout: Duration,
    counters: ReassemblyCounters,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(REASSEMBLY_TIMEOUT)
    }
}

impl Reassembler {
    pub fn new(timeout: Duration) -> Reassembler {
        Reassembler {
            pending: HashMap::new(),
            timeout,
            counters: ReassemblyCounters::default(),
        }
    }

    pub fn counters(&self) -> ReassemblyCounters {
        self.counters
    }

    /// Datagrams waiting for more fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Takes one received packet at `now`: a whole datagram comes back as it is, a fragment
    /// comes back as the reassembled datagram once it was the last one missing.
    pub fn accept(
        &mut self,
        now: Duration,
        packet: &[u8],
    ) -> Result<Option<Vec<u8>>, ReassemblyError> {
        let header = parse(packet).ok_or(ReassemblyError::Malformed)?;
        let bytes = data(packet);
        if !header.is_fragment() {
            return Ok(Some(packet[..HEADER_LEN + bytes.len()].to_vec()));
        }
        self.expire(now);
        self.counters.fragments += 1;
        let offset = header.fragment_offset;
        let end = offset + bytes.len();
        if header.more_fragments && !bytes.len().is_multiple_of(8) {
            return Err(ReassemblyError::Misaligned {
                offset,
                len: bytes.len(),
            });
        }
        if end > MAX_DATA {
            return Err(ReassemblyError::TooLong { end });
        }
        let key = (header.src, header.dst, header.protocol, header.id);
        if !self.pending.contains_key(&key) && self.pending.len() >= MAX_PENDING {
            self.evict_oldest();
        }
        let partial = self.pending.entry(key).or_insert_with(|| Partial {
            started: now,
            first: None,
            data: Vec::new(),
            have: Vec::new(),
            total: None,
        });
        let total = if header.more_fragments {
            partial.total
        } else {
            Some(end)
        };
        let known_end = partial.have.last().map_or(0, |r| r.end).max(end);
        match (partial.total, total) {
            (Some(first), Some(second)) if first != second => {
                self.pending.remove(&key);
                return Err(ReassemblyError::LengthConflict { first, second });
            }
            (_, Some(t)) if known_end > t => {
                self.pending.remove(&key);
                return Err(ReassemblyError::LengthConflict {
                    first: t,
                    second: known_end,
                });
            }
            _ => {}
        }
        partial.total = total;
        if offset == 0 {
            partial.first = Some(header);
        }
        partial.add(offset..end, bytes);
        let Some((first, whole)) = partial.complete() else {
            return Ok(None);
        };
        let datagram = Header {
            more_fragments: false,
            fragment_offset: 0,
            ..first
        }
        .datagram(whole);
        self.pending.remove(&key);
        self.counters.reassembled += 1;
        Ok(Some(datagram))
    }

    /// Gives up the datagrams whose first fragment came longer than the timeout ago.
    pub fn expire(&mut self, now: Duration) {
        let timeout = self.timeout;
        let before = self.pending.len();
        self.pending
            .retain(|_, p| now.saturating_sub(p.started) < timeout);
        self.counters.timed_out += (before - self.pending.len()) as u64;
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .pending
            .iter()
            .min_by_key(|(key, p)| (p.started, **key))
            .map(|(key, _)| *key);
        if let Some(key) = oldest {
            self.pending.remove(&key);
            self.counters.evicted += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipv4::datagram;
    use proptest::prelude::*;

    fn sample(len: usize) -> Vec<u8> {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        datagram(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(224, 0, 0, 5),
            89,
            1,
            42,
            &data,
        )
    }

    #[test]
    fn a_datagram_that_fits_goes_whole() {
        let d = sample(1480);
        assert_eq!(fragment(&d, 1500), Ok(vec![d.clone()]));
        assert_eq!(fragment_count(1480, 1500), Ok(1));
    }

    #[test]
    fn fragments_fit_the_mtu_and_carry_offsets_in_units_of_eight() {
        // A Router-LSA of a router with 67 point-to-point links does not fit 1 500 octets.
        let d = sample(1656);
        let parts = fragment(&d, 1500).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(fragment_count(1656, 1500), Ok(2));
        let heads: Vec<Header> = parts.iter().map(|p| parse(p).unwrap()).collect();
        assert_eq!(parts[0].len(), 20 + 1480);
        assert!(heads[0].more_fragments && heads[0].fragment_offset == 0);
        assert!(!heads[1].more_fragments && heads[1].fragment_offset == 1480);
        assert!(heads.iter().all(|h| h.id == 42 && h.protocol == 89));
    }

    #[test]
    fn dont_fragment_and_tiny_mtus_are_refused() {
        let mut d = sample(2000);
        d[6] |= 0x40;
        d[10] = 0;
        d[11] = 0;
        let sum = !crate::ipv4::ones_complement_sum(&d[..20]);
        d[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            fragment(&d, 1500),
            Err(FragmentError::DontFragment {
                len: 2020,
                mtu: 1500
            })
        );
        assert_eq!(
            fragment(&sample(200), 60),
            Err(FragmentError::MtuTooSmall { mtu: 60 })
        );
        assert_eq!(fragment(&d[..10], 1500), Err(FragmentError::Malformed));
    }

    #[test]
    fn fragments_of_a_fragment_keep_its_offset_and_flag() {
        let parts = fragment(&sample(4000), 1500).unwrap();
        let middle = &parts[1];
        let again = fragment(middle, 576).unwrap();
        let heads: Vec<Header> = again.iter().map(|p| parse(p).unwrap()).collect();
        assert_eq!(heads[0].fragment_offset, 1480);
        assert!(heads.iter().all(|h| h.more_fragments));
        let mut r = Reassembler::default();
        let mut out = None;
        for p in parts
            .iter()
            .take(1)
            .chain(&again)
            .chain(parts.iter().skip(2))
        {
            out = r.accept(Duration::ZERO, p).unwrap().or(out);
        }
        assert_eq!(out, Some(sample(4000)));
    }

    #[test]
    fn a_lost_fragment_times_out() {
        let parts = fragment(&sample(3000), 1500).unwrap();
        let mut r = Reassembler::new(Duration::from_secs(30));
        assert_eq!(r.accept(Duration::ZERO, &parts[0]), Ok(None));
        assert_eq!(r.pending(), 1);
        r.expire(Duration::from_secs(31));
        assert_eq!(r.pending(), 0);
        assert_eq!(r.counters().timed_out, 1);
        // The rest arriving late starts a new datagram that never completes.
        assert_eq!(r.accept(Duration::from_secs(31), &parts[1]), Ok(None));
    }

    #[test]
    fn bad_fragments_are_refused_with_the_reason() {
        let parts = fragment(&sample(3000), 1500).unwrap();
        let mut r = Reassembler::default();
        // The first fragment cut short: its length is no longer a multiple of 8.
        let h = parse(&parts[0]).unwrap();
        let short = h.datagram(&data(&parts[0])[..100 - 3]);
        assert_eq!(
            r.accept(Duration::ZERO, &short),
            Err(ReassemblyError::Misaligned { offset: 0, len: 97 })
        );
        // Two last fragments that disagree on the end.
        let last = parse(&parts[2]).unwrap();
        let a = last.datagram(&[0; 16]);
        let b = Header {
            fragment_offset: last.fragment_offset + 8,
            ..last
        }
        .datagram(&[0; 16]);
        assert_eq!(r.accept(Duration::ZERO, &a), Ok(None));
        assert!(matches!(
            r.accept(Duration::ZERO, &b),
            Err(ReassemblyError::LengthConflict { .. })
        ));
        let far = Header {
            fragment_offset: 65_528,
            more_fragments: true,
            ..last
        }
        .datagram(&[0; 16]);
        assert_eq!(
            r.accept(Duration::ZERO, &far),
            Err(ReassemblyError::TooLong { end: 65_544 })
        );
        assert_eq!(
            r.accept(Duration::ZERO, b"junk"),
            Err(ReassemblyError::Malformed)
        );
    }

    #[test]
    fn the_oldest_datagram_makes_room() {
        let mut r = Reassembler::default();
        for id in 0..=MAX_PENDING as u16 {
            let d = Header {
                id,
                ..parse(&sample(3000)).unwrap()
            }
            .datagram(&[1; 3000]);
            let first = fragment(&d, 1500).unwrap().remove(0);
            assert_eq!(
                r.accept(Duration::from_millis(u64::from(id)), &first),
                Ok(None)
            );
        }
        assert_eq!(r.pending(), MAX_PENDING);
        assert_eq!(r.counters().evicted, 1);
    }

    proptest! {
        /// Fragments in any order, some twice, give back the datagram.
        #[test]
        fn reassembly_undoes_fragmentation(
            len in 0usize..9000,
            mtu in MIN_MTU..2000,
            seed in any::<u64>(),
        ) {
            let d = sample(len);
            let mut parts = fragment(&d, mtu).unwrap();
            prop_assert!(parts.iter().all(|p| p.len() <= mtu));
            prop_assert_eq!(parts.len(), fragment_count(len, mtu).unwrap());
            let n = parts.len();
            for k in 0..n {
                let j = (seed.rotate_left(k as u32) as usize) % n;
                parts.swap(k, j);
            }
            if n > 1 {
                parts.push(parts[0].clone());
            }
            let mut r = Reassembler::default();
            let mut whole = Vec::new();
            for p in &parts {
                if let Some(d) = r.accept(Duration::ZERO, p).unwrap() {
                    whole.push(d);
                }
            }
            prop_assert_eq!(whole.first(), Some(&d));
        }
    }
}
