//! The stop signal passed down to every long-running task (mini-redis
//! style): a `watch` channel flipped once; each task holds a [`Shutdown`]
//! and `select!`s on [`Shutdown::wait`].

use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// The sending side: [`Trigger::fire`] tells every [`Shutdown`] to stop.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Shutdown(rx))
}

impl Trigger {
    pub fn fire(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    pub fn is_fired(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the trigger fires (or is dropped).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}
