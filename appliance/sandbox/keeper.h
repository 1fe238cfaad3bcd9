/* Work kept off a run's critical path by a helper thread: network namespaces made ahead of
 * time (each used by one sandbox only), and namespaces released after a run is recorded. */
#ifndef AP_SANDBOX_KEEPER_H
#define AP_SANDBOX_KEEPER_H

/* A new network namespace (only lo, down) made ahead of time, or -1 when none is ready (the
 * caller then creates one with CLONE_NEWNET). The caller owns the descriptor. The thread
 * starts on the second call: the first run of a process never gets one. */
int ap_keeper_take_netns(void);

/* Called once per run when it ends, with fd (or -1): wakes the helper thread to refill its
 * namespaces and to close fd (closed here when the thread has not started): dropping the last
 * reference to a mount namespace unmounts its whole tree, which waits for an RCU grace
 * period. */
void ap_keeper_release(int fd);

/* Returns once the helper thread has nothing left to do (every namespace asked for made,
 * every released one closed), at once when it never started. */
void ap_keeper_settle(void);

#endif
