//! The task list: every task of one runtime whose future is still alive.
//!
//! It exists for two jobs. When the runtime shuts down, it drops every live future, including
//! those that nothing will ever wake (a task waiting on a channel whose sender is forgotten is
//! reachable from nowhere else). And the task dump (`evloop::tasks`) walks it to list what is
//! alive. A task is linked when the runtime adopts it and unlinked the moment its future is gone,
//! so the list holds exactly the live futures.
//!
//! It is an intrusive doubly linked list: the links live in each task's header, so linking costs
//! no allocation and unlinking is O(1) from the task alone. The list owns one reference to each
//! linked task, its [`Listed`] reference (invariant 1 in cell.rs: this is the reference that keeps
//! a task alive while it is polled).
//!
//! Only the loop thread touches the list and the links: the list lives in the runtime's `Local`
//! half, which never leaves that thread.

use std::marker::PhantomData;
use std::ptr::NonNull;

use super::cell::{record_of, Header};
use super::record::TaskRecord;
use super::refs::Listed;
use super::TaskId;

/// An intrusive list of live tasks, owned by one runtime's loop thread.
#[derive(Default)]
pub(crate) struct TaskList {
    head: Option<NonNull<Header>>,
    len: usize,
}

impl TaskList {
    /// Links a task, taking ownership of the reference `task` holds.
    pub(crate) fn push(&mut self, task: Listed) {
        let old_head = self.head;
        task.header().links.with_mut(|links| {
            // SAFETY: links are only touched by the loop thread, and this task is not linked yet.
            let links = unsafe { &mut *links };
            debug_assert!(links.prev.is_none() && links.next.is_none());
            links.next = old_head;
        });
        let header = task.into_raw();
        if let Some(old_head) = old_head {
            // SAFETY: a linked task is alive (the list holds a reference to it).
            unsafe { old_head.as_ref() }
                .links
                .with_mut(|links| unsafe { (*links).prev = Some(header) });
        }
        self.head = Some(header);
        self.len += 1;
    }

    /// Unlinks `task`, whose future just completed, and returns the list's reference to it.
    ///
    /// `task` must be linked in this list: the caller got it back from `Queued::run` on this
    /// list's runtime.
    pub(crate) fn remove(&mut self, task: Listed) -> Listed {
        let (prev, next) = task.header().links.with_mut(|links| {
            // SAFETY: loop thread only; the task is linked, so its neighbours are alive.
            let links = unsafe { &mut *links };
            (links.prev.take(), links.next.take())
        });
        match prev {
            // SAFETY: a linked neighbour is alive (the list holds a reference to it).
            Some(prev) => unsafe { prev.as_ref() }
                .links
                .with_mut(|links| unsafe { (*links).next = next }),
            None => {
                assert_eq!(
                    self.head.map(NonNull::as_ptr),
                    Some(task.header() as *const Header as *mut Header),
                    "evloop bug: unlinking a task that is not in this task list"
                );
                self.head = next;
            }
        }
        if let Some(next) = next {
            // SAFETY: as above.
            unsafe { next.as_ref() }
                .links
                .with_mut(|links| unsafe { (*links).prev = prev });
        }
        self.len -= 1;
        task
    }

    /// Unlinks the first task and returns the list's reference to it (used at shutdown).
    pub(crate) fn pop_front(&mut self) -> Option<Listed> {
        let head = self.head?;
        // SAFETY: the head is linked, so the list owns its `Listed` reference; `remove` unlinks
        // it and the reference passes to the caller.
        Some(self.remove(unsafe { Listed::from_raw(head) }))
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every linked task, newest first. The borrow of the list keeps them all alive: no task can
    /// be unlinked (hence released by the list) while it lasts.
    pub(crate) fn iter(&self) -> impl Iterator<Item = ListedTask<'_>> + '_ {
        let mut next = self.head;
        std::iter::from_fn(move || {
            let header = next?;
            // SAFETY: a linked task is alive: the list holds a reference to it.
            let links = &unsafe { header.as_ref() }.links;
            // SAFETY: links are only touched by the loop thread, the one that owns this list, and
            // nothing writes them while the list is borrowed.
            next = links.with(|links| unsafe { (*links).next });
            Some(ListedTask {
                header,
                _list: PhantomData,
            })
        })
    }
}

/// A task seen while walking the list: alive as long as the list stays borrowed.
pub(crate) struct ListedTask<'a> {
    header: NonNull<Header>,
    _list: PhantomData<&'a TaskList>,
}

impl<'a> ListedTask<'a> {
    /// The task's id.
    pub(crate) fn id(&self) -> TaskId {
        TaskId::of(self.header)
    }

    /// The task's record, if it has one.
    pub(crate) fn record(&self) -> Option<&'a TaskRecord> {
        // SAFETY: the task is linked, so alive while the list is borrowed (`'a`), and the list
        // lives on its runtime's loop thread (in `Local`, which never leaves it).
        unsafe { record_of(self.header) }
    }

    /// Whether the task is queued to run (woken since its last poll began).
    pub(crate) fn is_scheduled(&self) -> bool {
        // SAFETY: the task is linked, so alive while the list is borrowed (`'a`); only its atomic
        // state word is read.
        unsafe { self.header.as_ref() }.is_scheduled()
    }
}

impl Drop for TaskList {
    fn drop(&mut self) {
        // Shutdown empties the list; a task left here would leak its future.
        debug_assert!(
            self.head.is_none(),
            "task list dropped with {} live tasks",
            self.len
        );
    }
}

impl std::fmt::Debug for TaskList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskList").field("len", &self.len).finish()
    }
}
