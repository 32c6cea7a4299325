//! `Map`: the results of [`ThreadPoolExecutor::map`](super::ThreadPoolExecutor::map), in input
//! order. Every job is already submitted; each `next` blocks for the next result in turn.

#![forbid(unsafe_code)]

use std::collections::VecDeque;

use super::PoolFuture;
use crate::park::refuse_on_a_loop;
use crate::task::JoinError;

/// The iterator returned by [`ThreadPoolExecutor::map`](super::ThreadPoolExecutor::map): each job's result, in input order.
#[derive(Debug)]
pub struct Map<T> {
    futures: VecDeque<PoolFuture<T>>,
}

impl<T> Map<T> {
    pub(super) fn new(futures: VecDeque<PoolFuture<T>>) -> Map<T> {
        Map { futures }
    }
}

impl<T> Iterator for Map<T> {
    type Item = Result<T, JoinError>;

    /// Blocks until the next result in input order is there.
    ///
    /// # Panics
    ///
    /// On a thread that runs an evloop loop (see [`PoolFuture::result`]).
    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        refuse_on_a_loop("Map::next", "await each PoolFuture of `submit`");
        self.futures.pop_front().map(PoolFuture::result)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.futures.len(), Some(self.futures.len()))
    }
}

impl<T> ExactSizeIterator for Map<T> {}
