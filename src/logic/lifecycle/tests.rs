//! Table tests of the lifecycle machine: every zone state at start, every input in every
//! stage, the restart policies, CrashLoopBackOff, and termination with grace and halt.

use super::*;

fn t0() -> Timestamp {
    "2026-11-27T10:00:00Z".parse().unwrap()
}

fn at(seconds: i64) -> Timestamp {
    t0().saturating_add(SignedDuration::from_secs(seconds)).unwrap()
}

fn ip() -> IpAddr {
    "127.77.0.5".parse().unwrap()
}

/// A machine and a clock, driven one input at a time.
struct Driver {
    state: PodState,
    now: Timestamp,
    log: Vec<Effect>,
}

impl Driver {
    fn new(desired: Desired) -> Self {
        Self::resume(desired, Resume::default())
    }

    fn resume(desired: Desired, resume: Resume) -> Self {
        let (state, effects) = PodState::new(desired, resume).start(t0());
        Self { state, now: t0(), log: effects }
    }

    fn feed(&mut self, input: Input) -> Vec<Effect> {
        let (state, effects) = step(self.state.clone(), input, self.now);
        self.state = state;
        self.log.extend(effects.iter().cloned());
        effects
    }

    fn op(&self) -> (u64, Op) {
        self.state.op.unwrap_or_else(|| panic!("no operation in flight: {:?}", self.state))
    }

    /// Finishes the operation in flight, asserting which one it is.
    fn finish(&mut self, expected: Op, result: OpResult) -> Vec<Effect> {
        let (id, op) = self.op();
        assert_eq!(op, expected, "{:?}", self.state);
        self.feed(Input::OpFinished { id, result })
    }

    fn ok(&mut self, expected: Op) -> Vec<Effect> {
        self.finish(expected, OpResult::Done)
    }

    fn observe(&mut self, zone: ZoneStatus) -> Vec<Effect> {
        self.finish(Op::Observe, OpResult::Observed { zone, address: None })
    }

    fn fire_wake(&mut self) -> Vec<Effect> {
        let (id, _) = self.state.wake.expect("a pending wake-up");
        self.feed(Input::TimerFired { id })
    }

    fn in_flight(&self) -> Option<Op> {
        self.state.op.map(|(_, op)| op)
    }

    /// Creates a running pod from nothing.
    fn running(desired: Desired) -> Self {
        let mut d = Self::new(desired);
        d.observe(ZoneStatus::Absent);
        d.finish(Op::AllocateIp, OpResult::IpAllocated(ip()));
        d.ok(Op::Prepare);
        d.ok(Op::Install);
        d.ok(Op::Boot);
        assert_eq!(d.state.stage, Stage::Running);
        d
    }
}

fn runs(effects: &[Effect]) -> Vec<Op> {
    effects.iter().filter_map(|e| if let Effect::Run { op, .. } = e { Some(*op) } else { None }).collect()
}

fn events(effects: &[Effect]) -> Vec<&'static str> {
    effects.iter().filter_map(|e| if let Effect::Event { reason, .. } = e { Some(*reason) } else { None }).collect()
}

fn timers(effects: &[Effect]) -> Vec<Duration> {
    effects.iter().filter_map(|e| if let Effect::StartTimer { after, .. } = e { Some(*after) } else { None }).collect()
}

fn deleting(seconds: i64) -> Desired {
    Desired { deletion_deadline: Some(at(seconds)), ..Desired::default() }
}

fn waiting_reason(state: &PodState) -> Option<&str> {
    match &state.container {
        ContainerState::Waiting { reason, .. } => Some(reason),
        _ => None,
    }
}

#[test]
fn a_new_pod_goes_observe_allocate_prepare_install_boot_running() {
    let mut d = Driver::new(Desired::default());
    assert_eq!(runs(&d.log), [Op::Observe]);
    assert_eq!(d.state.phase(), "Pending");
    assert_eq!(runs(&d.observe(ZoneStatus::Absent)), [Op::AllocateIp]);
    assert_eq!(runs(&d.finish(Op::AllocateIp, OpResult::IpAllocated(ip()))), [Op::Prepare]);
    assert_eq!(runs(&d.ok(Op::Prepare)), [Op::Install]);
    assert_eq!(runs(&d.ok(Op::Install)), [Op::Boot]);
    let effects = d.ok(Op::Boot);
    assert!(runs(&effects).is_empty());
    assert_eq!(events(&effects), ["Started"]);
    assert!(effects.contains(&Effect::PublishStatus));
    assert_eq!(d.state.stage, Stage::Running);
    assert_eq!(d.state.phase(), "Running");
    assert!(d.state.is_ready());
    assert_eq!(d.state.container, ContainerState::Running { started_at: t0() });
    assert_eq!(d.state.summary(), "running zone=running");
}

#[test]
fn the_first_step_depends_on_every_observed_zone_state() {
    // (observed zone, host operations until the machine rests, resting stage)
    let table = [
        (ZoneStatus::Absent, vec![Op::Prepare, Op::Install, Op::Boot], Stage::Running),
        (ZoneStatus::Configured, vec![Op::Prepare, Op::Install, Op::Boot], Stage::Running),
        (ZoneStatus::Incomplete, vec![Op::Prepare, Op::Install, Op::Boot], Stage::Running),
        (ZoneStatus::Installed, vec![Op::Prepare, Op::Boot], Stage::Running),
        (ZoneStatus::Ready, vec![Op::Prepare, Op::Boot], Stage::Running),
        (ZoneStatus::Running, vec![], Stage::Running),
        (ZoneStatus::ShuttingDown, vec![], Stage::Creating),
        (ZoneStatus::Down, vec![], Stage::Creating),
        (ZoneStatus::Mounted, vec![], Stage::Creating),
    ];
    for (zone, expected, stage) in table {
        let mut d = Driver::new(Desired::default());
        d.finish(Op::Observe, OpResult::Observed { zone, address: None });
        let effects = d.finish(Op::AllocateIp, OpResult::IpAllocated(ip()));
        let mut ops = Vec::new();
        while let Some(op) = d.in_flight() {
            ops.push(op);
            d.ok(op);
        }
        assert_eq!(ops, expected, "{zone:?}");
        assert_eq!(d.state.stage, stage, "{zone:?}");
        if zone.settling() {
            // A settling zone is looked at again shortly.
            assert_eq!(timers(&effects), [SETTLE_POLL], "{zone:?}");
            assert_eq!(runs(&d.fire_wake()), [Op::Observe], "{zone:?}");
        }
    }
}

#[test]
fn a_running_zone_is_adopted_untouched_after_a_restart() {
    let resume = Resume { restart_count: 2, running_since: Some(at(-100)), last_termination: None, has_run: true };
    let mut d = Driver::resume(Desired::default(), resume);
    d.finish(Op::Observe, OpResult::Observed { zone: ZoneStatus::Running, address: Some(ip()) });
    let effects = d.finish(Op::AllocateIp, OpResult::IpAllocated(ip()));
    assert!(runs(&effects).is_empty());
    assert!(events(&d.log).is_empty(), "no Started event for an adopted zone: {:?}", d.log);
    assert_eq!(d.state.container, ContainerState::Running { started_at: at(-100) });
    assert_eq!((d.state.restart_count, d.state.phase()), (2, "Running"));
    assert_eq!(d.state.zone_address, Some(ip()));
}

#[test]
fn a_failed_install_is_retried_after_observing_again_and_says_why() {
    let mut d = Driver::new(Desired::default());
    d.observe(ZoneStatus::Absent);
    d.finish(Op::AllocateIp, OpResult::IpAllocated(ip()));
    d.ok(Op::Prepare);
    let failure = Failure { kind: FailureKind::Transient, message: "zoneadm: zone 'x': install failed".into() };
    let effects = d.finish(Op::Install, OpResult::Failed(failure));
    assert_eq!(events(&effects), ["Failed"]);
    let Some(Effect::Event { warning, message, .. }) = effects.iter().find(|e| matches!(e, Effect::Event { .. }))
    else {
        unreachable!()
    };
    assert!(*warning);
    assert_eq!(message, "install failed: zoneadm: zone 'x': install failed");
    assert_eq!(timers(&effects), [Duration::from_secs(1)]);
    assert_eq!(waiting_reason(&d.state), Some("ContainerCreating"));
    assert!(runs(&d.fire_wake()).contains(&Op::Observe));
    d.observe(ZoneStatus::Incomplete);
    d.ok(Op::Install);
    d.ok(Op::Boot);
    assert_eq!(d.state.stage, Stage::Running);
}

#[test]
fn repeated_failures_back_off_exponentially() {
    let mut d = Driver::new(Desired::default());
    d.observe(ZoneStatus::Absent);
    let mut delays = Vec::new();
    for _ in 0..4 {
        let failure = Failure { kind: FailureKind::Transient, message: "no".into() };
        delays.extend(timers(&d.finish(Op::AllocateIp, OpResult::Failed(failure))));
        d.fire_wake();
        d.observe(ZoneStatus::Absent);
    }
    assert_eq!(delays, [1, 2, 4, 8].map(Duration::from_secs));
    assert_eq!(events(&d.log), ["FailedCreatePodSandBox"; 4]);
}

#[test]
fn image_failures_show_err_image_pull_then_image_pull_back_off() {
    let mut d = Driver::new(Desired::default());
    d.observe(ZoneStatus::Absent);
    d.finish(Op::AllocateIp, OpResult::IpAllocated(ip()));
    d.ok(Op::Prepare);
    let image = || OpResult::Failed(Failure { kind: FailureKind::Image, message: "no image 'x'".into() });
    d.finish(Op::Install, image());
    assert_eq!(waiting_reason(&d.state), Some("ErrImagePull"));
    d.fire_wake();
    // Prepare succeeded in this incarnation: not repeated.
    d.observe(ZoneStatus::Configured);
    d.finish(Op::Install, image());
    assert_eq!(waiting_reason(&d.state), Some("ImagePullBackOff"));
    d.fire_wake();
    // Prepare succeeded in this incarnation: not repeated.
    d.observe(ZoneStatus::Configured);
    let config = Failure { kind: FailureKind::Config, message: "brand 'x' is not available".into() };
    d.finish(Op::Install, OpResult::Failed(config));
    assert_eq!(waiting_reason(&d.state), Some("CreateContainerConfigError"));
    assert_eq!(d.state.phase(), "Pending");
}

#[test]
fn restart_policies_decide_after_an_exit() {
    // (policy, zone seen after the exit, restarts?, phase when not restarting)
    let table = [
        (RestartPolicy::Always, ZoneStatus::Installed, true, ""),
        (RestartPolicy::Always, ZoneStatus::Down, false, ""),
        (RestartPolicy::Always, ZoneStatus::Absent, true, ""),
        (RestartPolicy::OnFailure, ZoneStatus::Installed, false, "Succeeded"),
        (RestartPolicy::OnFailure, ZoneStatus::Configured, true, ""),
        (RestartPolicy::Never, ZoneStatus::Installed, false, "Succeeded"),
        (RestartPolicy::Never, ZoneStatus::Incomplete, false, "Failed"),
    ];
    for (policy, zone, restarts, phase) in table {
        let mut d = Driver::running(Desired { restart_policy: policy, ..Desired::default() });
        let effects = d.feed(Input::Observed(zone));
        if zone == ZoneStatus::Down {
            // Down is still settling: not an exit yet.
            assert_eq!(d.state.stage, Stage::Running);
            continue;
        }
        assert!(effects.contains(&Effect::PublishStatus));
        let exit_code = if zone == ZoneStatus::Installed { 0 } else { 1 };
        assert_eq!(d.state.last_termination.as_ref().unwrap().exit_code, exit_code, "{policy:?} {zone:?}");
        if restarts {
            assert_eq!(d.state.stage, Stage::BackOff, "{policy:?} {zone:?}");
            assert_eq!(waiting_reason(&d.state), Some("CrashLoopBackOff"));
            assert_eq!(events(&effects), ["BackOff"]);
            assert_eq!(d.state.phase(), "Running");
        } else {
            assert_eq!(d.state.stage, Stage::Completed, "{policy:?} {zone:?}");
            assert_eq!(d.state.phase(), phase, "{policy:?} {zone:?}");
            assert!(!d.state.is_ready());
            assert!(timers(&effects).is_empty());
        }
    }
}

#[test]
fn crash_loop_backoff_doubles_to_five_minutes_and_resets_after_ten_minutes_of_running() {
    let mut d = Driver::running(Desired::default());
    let mut delays = Vec::new();
    for round in 0..7 {
        let effects = d.feed(Input::Observed(ZoneStatus::Installed));
        delays.extend(timers(&effects));
        assert_eq!(d.state.restart_count, round);
        let effects = d.fire_wake();
        assert_eq!(runs(&effects), [Op::Observe]);
        assert_eq!(waiting_reason(&d.state), Some("ContainerCreating"));
        assert_eq!(d.state.restart_count, round + 1);
        d.observe(ZoneStatus::Installed);
        // Prepare is not repeated in the same incarnation: straight to boot.
        d.ok(Op::Boot);
        assert_eq!(d.state.stage, Stage::Running);
    }
    assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300].map(Duration::from_secs));
    // Ten minutes of running resets the backoff.
    d.now = at(3600);
    let effects = d.feed(Input::Observed(ZoneStatus::Installed));
    assert_eq!(timers(&effects), [Duration::from_secs(10)]);
    let last = d.state.last_termination.clone().unwrap();
    assert_eq!((last.exit_code, last.reason.as_str(), last.finished_at), (0, "Completed", at(3600)));
}

#[test]
fn graceful_termination_shuts_down_tears_down_releases_and_deletes() {
    let mut d = Driver::running(Desired::default());
    let effects = d.feed(Input::Desired(deleting(30)));
    assert_eq!(events(&effects), ["Killing"]);
    assert_eq!(timers(&effects), [Duration::from_secs(30)]);
    assert_eq!(runs(&effects), [Op::Shutdown]);
    assert_eq!(d.state.stage, Stage::Terminating);
    assert!(!d.state.is_ready());
    assert!(effects.contains(&Effect::PublishStatus), "Ready turns False at once");
    assert_eq!(runs(&d.ok(Op::Shutdown)), [Op::Teardown]);
    assert_eq!(runs(&d.ok(Op::Teardown)), [Op::ReleaseIp]);
    assert_eq!(runs(&d.ok(Op::ReleaseIp)), [Op::DeleteObject]);
    let effects = d.ok(Op::DeleteObject);
    assert_eq!(effects.last(), Some(&Effect::Stop));
    assert_eq!(d.state.stage, Stage::Finished);
    // Nothing moves a finished machine.
    for input in [Input::Observed(ZoneStatus::Running), Input::Desired(deleting(30)), Input::PodGone] {
        let effects = d.feed(input);
        assert!(runs(&effects).is_empty(), "{effects:?}");
    }
}

#[test]
fn a_hung_shutdown_is_halted_at_the_grace_deadline_and_its_late_result_dropped() {
    let mut d = Driver::running(Desired::default());
    d.feed(Input::Desired(deleting(30)));
    let (shutdown_id, op) = d.op();
    assert_eq!(op, Op::Shutdown);
    let deadline = d.state.deadline_timer.unwrap();
    d.now = at(30);
    let effects = d.feed(Input::TimerFired { id: deadline });
    assert!(effects.contains(&Effect::Cancel { id: shutdown_id }));
    assert_eq!(events(&effects), ["Killing"]);
    // Cancelled: observe first, then halt.
    assert_eq!(runs(&effects), [Op::Observe]);
    assert_eq!(runs(&d.observe(ZoneStatus::Running)), [Op::Halt]);
    // The hung shutdown's late result changes nothing.
    let late = d.feed(Input::OpFinished { id: shutdown_id, result: OpResult::Done });
    assert!(late.is_empty(), "{late:?}");
    assert_eq!(d.in_flight(), Some(Op::Halt));
    assert_eq!(runs(&d.ok(Op::Halt)), [Op::Teardown]);
}

#[test]
fn a_zone_already_shutting_down_is_waited_for_then_halted_at_the_deadline() {
    let mut d = Driver::running(Desired::default());
    d.feed(Input::Desired(deleting(5)));
    d.finish(Op::Shutdown, OpResult::Failed(Failure { kind: FailureKind::Transient, message: "busy".into() }));
    d.fire_wake();
    let effects = d.observe(ZoneStatus::ShuttingDown);
    assert_eq!(timers(&effects), [SETTLE_POLL]);
    let deadline = d.state.deadline_timer.unwrap();
    d.now = at(5);
    let effects = d.feed(Input::TimerFired { id: deadline });
    assert_eq!(runs(&effects), [Op::Observe]);
    assert_eq!(runs(&d.observe(ZoneStatus::ShuttingDown)), [Op::Halt]);
}

#[test]
fn deletion_during_install_cancels_it_and_an_elapsed_deadline_halts_at_once() {
    let mut d = Driver::new(Desired::default());
    d.observe(ZoneStatus::Absent);
    d.finish(Op::AllocateIp, OpResult::IpAllocated(ip()));
    d.ok(Op::Prepare);
    let (install_id, _) = d.op();
    let effects = d.feed(Input::Desired(deleting(0)));
    assert!(effects.contains(&Effect::Cancel { id: install_id }));
    assert!(timers(&effects).is_empty(), "the deadline has passed: no timer");
    assert_eq!(runs(&effects), [Op::Observe]);
    assert_eq!(runs(&d.observe(ZoneStatus::Incomplete)), [Op::Teardown]);
    d.ok(Op::Teardown);
    d.ok(Op::ReleaseIp);
    d.ok(Op::DeleteObject);
    assert_eq!(d.state.stage, Stage::Finished);

    let mut running = Driver::running(Desired::default());
    let effects = running.feed(Input::Desired(deleting(-5)));
    assert_eq!(runs(&effects), [Op::Halt], "no graceful shutdown once the deadline has passed");
}

#[test]
fn a_second_delete_with_a_shorter_grace_moves_the_deadline() {
    let mut d = Driver::running(Desired::default());
    d.feed(Input::Desired(deleting(30)));
    let first = d.state.deadline_timer.unwrap();
    let effects = d.feed(Input::Desired(deleting(2)));
    assert_eq!(timers(&effects), [Duration::from_secs(2)]);
    assert_ne!(d.state.deadline_timer, Some(first));
    // The old timer firing is stale.
    assert!(d.feed(Input::TimerFired { id: first }).is_empty());
    assert!(!d.state.halt_due);
    let effects = d.feed(Input::Desired(deleting(0)));
    assert!(d.state.halt_due);
    assert!(effects.iter().any(|e| matches!(e, Effect::Cancel { .. })));
}

#[test]
fn a_pod_gone_from_the_api_is_halted_and_cleaned_without_a_final_delete() {
    let mut d = Driver::running(Desired::default());
    let effects = d.feed(Input::PodGone);
    assert!(events(&effects).is_empty(), "no event about a pod that no longer exists");
    assert_eq!(runs(&effects), [Op::Halt]);
    d.ok(Op::Halt);
    d.ok(Op::Teardown);
    let effects = d.ok(Op::ReleaseIp);
    assert_eq!(effects.last(), Some(&Effect::Stop));

    // Gone while our own delete is in flight: finished at once.
    let mut d = Driver::running(Desired::default());
    d.feed(Input::Desired(deleting(0)));
    d.ok(Op::Halt);
    d.ok(Op::Teardown);
    d.ok(Op::ReleaseIp);
    assert_eq!(d.in_flight(), Some(Op::DeleteObject));
    let effects = d.feed(Input::PodGone);
    assert_eq!(effects.last(), Some(&Effect::Stop));
}

#[test]
fn teardown_steps_retry_until_done() {
    let mut d = Driver::running(Desired::default());
    d.feed(Input::Desired(deleting(0)));
    d.ok(Op::Halt);
    for _ in 0..3 {
        let failure = Failure { kind: FailureKind::Transient, message: "link busy".into() };
        let effects = d.finish(Op::Teardown, OpResult::Failed(failure));
        assert_eq!(events(&effects), ["FailedKillPod"]);
        d.fire_wake();
        d.observe(ZoneStatus::Installed);
    }
    d.ok(Op::Teardown);
    d.finish(Op::ReleaseIp, OpResult::Failed(Failure { kind: FailureKind::Transient, message: "io".into() }));
    d.fire_wake();
    // A failure makes the zone unknown, but teardown is done: no observe needed.
    assert_eq!(d.in_flight(), Some(Op::ReleaseIp));
    d.ok(Op::ReleaseIp);
    d.finish(Op::DeleteObject, OpResult::Failed(Failure { kind: FailureKind::Transient, message: "503".into() }));
    d.fire_wake();
    d.ok(Op::DeleteObject);
    assert_eq!(d.state.stage, Stage::Finished);
}

#[test]
fn a_completed_pod_is_torn_down_on_deletion() {
    let mut d = Driver::running(Desired { restart_policy: RestartPolicy::Never, ..Desired::default() });
    d.feed(Input::Observed(ZoneStatus::Installed));
    assert_eq!(d.state.phase(), "Succeeded");
    let effects = d.feed(Input::Desired(deleting(30)));
    assert_eq!(runs(&effects), [Op::Teardown]);
    assert_eq!(d.state.phase(), "Succeeded", "terminating keeps the phase");
}

#[test]
fn stale_results_stale_timers_and_racy_observations_are_ignored() {
    let mut d = Driver::new(Desired::default());
    let (observe_id, _) = d.op();
    assert!(d.feed(Input::OpFinished { id: observe_id + 100, result: OpResult::Done }).is_empty());
    assert!(d.feed(Input::TimerFired { id: 999 }).is_empty());
    // An observation from the relist while our own observe is in flight is not acted on.
    assert!(d.feed(Input::Observed(ZoneStatus::Running)).is_empty());
    assert_eq!(d.state.zone, None);
    d.observe(ZoneStatus::Absent);
    // A wrongly shaped result means "look again".
    d.finish(Op::AllocateIp, OpResult::Done);
    assert_eq!(d.in_flight(), Some(Op::Observe));
}

#[test]
fn readiness_verdicts_feed_the_ready_condition() {
    let mut d = Driver::running(Desired::default());
    let effects = d.feed(Input::Readiness(false));
    assert_eq!(effects, [Effect::PublishStatus]);
    assert!(!d.state.is_ready());
    assert!(d.feed(Input::Readiness(false)).is_empty(), "no change, no publication");
    assert_eq!(d.feed(Input::Readiness(true)), [Effect::PublishStatus]);
    // A zone seen shutting down (not by us) stays Running but is not Ready.
    let effects = d.feed(Input::Observed(ZoneStatus::ShuttingDown));
    assert_eq!(effects, [Effect::PublishStatus]);
    assert_eq!((d.state.stage, d.state.is_ready()), (Stage::Running, false));
}

#[test]
fn a_pod_created_already_deleting_goes_straight_to_teardown() {
    let d = Driver::new(deleting(30));
    assert_eq!(d.state.stage, Stage::Terminating);
    assert_eq!(events(&d.log), ["Killing"]);
    assert_eq!(runs(&d.log), [Op::Observe]);
    let mut d = d;
    assert_eq!(runs(&d.observe(ZoneStatus::Absent)), [Op::Teardown]);
}

#[test]
fn restart_policy_parsing() {
    assert_eq!(RestartPolicy::parse(None), RestartPolicy::Always);
    assert_eq!(RestartPolicy::parse(Some("OnFailure")), RestartPolicy::OnFailure);
    assert_eq!(RestartPolicy::parse(Some("Never")), RestartPolicy::Never);
    assert_eq!(humanize(Duration::from_secs(160)), "2m40s");
}

#[test]
fn a_probe_kill_shuts_down_then_exits_137_under_the_restart_policy() {
    // (policy, does the shutdown finish before the grace timer?, restarts?)
    let table = [
        (RestartPolicy::Always, true, true),
        (RestartPolicy::OnFailure, false, true),
        (RestartPolicy::Never, true, false),
    ];
    for (policy, graceful, restarts) in table {
        let mut d = Driver::running(Desired { restart_policy: policy, ..Desired::default() });
        let effects = d.feed(Input::Kill { grace: Duration::from_secs(5) });
        assert_eq!(runs(&effects), [Op::Shutdown]);
        assert_eq!(timers(&effects), [Duration::from_secs(5)]);
        assert!(d.feed(Input::Kill { grace: Duration::from_secs(1) }).is_empty(), "a second kill is ignored");
        // A relist seeing the zone halted meanwhile is not a clean exit.
        d.feed(Input::Observed(ZoneStatus::Installed));
        assert_eq!(d.in_flight(), Some(Op::Shutdown));
        let effects = if graceful {
            d.ok(Op::Shutdown)
        } else {
            let Some(Some(timer)) = d.state.killing else { panic!("{:?}", d.state) };
            let effects = d.feed(Input::TimerFired { id: timer });
            assert_eq!(runs(&effects), [Op::Observe], "the grace period is over: look, then halt");
            d.observe(ZoneStatus::ShuttingDown);
            d.ok(Op::Halt)
        };
        let last = d.state.last_termination.clone().unwrap();
        assert_eq!((last.exit_code, last.reason.as_str()), (137, "Error"), "{policy:?}");
        assert!(effects.contains(&Effect::PublishStatus));
        assert!(d.state.killing.is_none());
        if restarts {
            assert_eq!(d.state.stage, Stage::BackOff, "{policy:?}");
            d.fire_wake();
            assert_eq!(d.state.restart_count, 1);
            d.observe(ZoneStatus::Installed);
            d.ok(Op::Boot);
            assert_eq!(d.state.stage, Stage::Running);
        } else {
            assert_eq!((d.state.stage, d.state.phase()), (Stage::Completed, "Failed"));
        }
    }
    // Not running: nothing to kill.
    let mut creating = Driver::new(Desired::default());
    assert!(timers(&creating.feed(Input::Kill { grace: Duration::from_secs(5) })).is_empty());
}

#[test]
fn a_pod_gated_by_probes_starts_each_run_unready() {
    let gated = Desired { probes_gate_readiness: true, ..Desired::default() };
    let mut d = Driver::running(gated.clone());
    assert!(!d.state.is_ready(), "not ready before the probes' first success");
    d.feed(Input::Readiness(true));
    assert!(d.state.is_ready());
    // An adopted running zone starts unready too.
    let resumed = Resume { running_since: Some(t0()), has_run: true, ..Resume::default() };
    let mut adopted = Driver::resume(gated, resumed);
    adopted.observe(ZoneStatus::Running);
    adopted.finish(Op::AllocateIp, OpResult::IpAllocated(ip()));
    assert_eq!(adopted.state.stage, Stage::Running);
    assert!(!adopted.state.is_ready());
    assert!(Driver::running(Desired::default()).state.is_ready(), "no probes: ready while running");
}
