//! The cursor and writers of `mplamps_core::wire`, used by every OSPF decoder.

pub(crate) use mplamps_core::wire::{Put, Reader};
