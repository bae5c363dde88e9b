//! Block buffers used again: a source reads each block into a buffer that its blocks share
//! (`Bytes::from_owner`), and when the last block cut from it is dropped (the workers have
//! parsed it) the buffer goes back here for a later read. A fresh 2 MiB buffer costs the
//! kernel 512 page faults and a zeroed page each, and its release an unmap; row 10 reads
//! 600 MB so.

use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// How many free buffers a pool keeps: a few blocks in flight per worker, each about
/// [`BLOCK_BYTES`](super::blocks::BLOCK_BYTES); more are freed.
const KEPT: usize = 16;

/// Free buffers, shared by a source and the blocks it made.
#[derive(Debug, Clone, Default)]
pub(super) struct BufferPool {
    free: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl BufferPool {
    /// An empty buffer of at least `capacity` bytes: a used one when there is one.
    pub(super) fn take(&self, capacity: usize) -> Vec<u8> {
        let mut buffer = self.used();
        buffer.clear();
        buffer.reserve(capacity);
        buffer
    }

    /// A buffer of at least `capacity` bytes whose first `capacity` bytes are initialized
    /// (a used buffer keeps its length: no zeroing again), for reads into a slice.
    pub(super) fn take_filled(&self, capacity: usize) -> Vec<u8> {
        let mut buffer = self.used();
        if buffer.len() < capacity {
            buffer.resize(capacity, 0);
        }
        buffer
    }

    /// A free buffer as it was given back (its length kept), or a new empty one.
    fn used(&self) -> Vec<u8> {
        self.free
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .unwrap_or_default()
    }

    /// `buffer` as shared bytes that give it back to the pool when the last of them goes.
    pub(super) fn share(&self, buffer: Vec<u8>) -> Bytes {
        Bytes::from_owner(Pooled {
            buffer,
            pool: self.clone(),
        })
    }
}

/// A buffer on loan to blocks.
struct Pooled {
    buffer: Vec<u8>,
    pool: BufferPool,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buffer
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        // Its length is kept: `take_filled` reads into it again without zeroing it.
        let buffer = std::mem::take(&mut self.buffer);
        if let Ok(mut free) = self.pool.free.lock() {
            if free.len() < KEPT {
                free.push(buffer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BufferPool;

    #[test]
    fn a_buffer_comes_back_when_its_last_bytes_go() {
        let pool = BufferPool::default();
        let mut buffer = pool.take(1024);
        buffer.extend_from_slice(b"a\nb\n");
        let address = buffer.as_ptr();
        let bytes = pool.share(buffer);
        let part = bytes.slice(2..);
        drop(bytes);
        assert_eq!(&part[..], b"b\n");
        assert!(pool.take(16).capacity() > 0 && pool.free.lock().map(|f| f.is_empty()).unwrap_or(false));
        drop(part);
        let again = pool.take(16);
        assert_eq!(again.as_ptr(), address, "the same buffer, used again");
        assert!(again.is_empty());
    }
}
