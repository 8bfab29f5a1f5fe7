using DiffusionGallery.Inference.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// Continuous batching: members that join a running loop at step boundaries, admitted on the loop's thread or
/// (<see cref="InferenceOptions.AdmitOffLoop"/>) on the engine's side thread, and the wait for that side work at the run's end.
/// </summary>
internal sealed partial class DiffusionPipeline
{
    // joiners being admitted on the side thread, not yet in the loop (the loop's thread only)
    private readonly List<(List<BatchMember> Members, Task Admitted)> _admitting = [];

    /// <summary>
    /// Admits what the feed offers while there is room (the loop's tensors hold <see cref="RunJoining.MaxImages"/>):
    /// on the loop's thread, or (<see cref="InferenceOptions.AdmitOffLoop"/>) on the side thread, from where they enter
    /// the loop at the first step boundary after their admission is done.
    /// </summary>
    private void Join(List<BatchMember> members, RunJoining joining, List<BatchMember> leaving, RunShape shape, RunOptions runOptions, CancellationToken ct)
    {
        EnterAdmitted(members, leaving, shape, runOptions, joining);
        var running = members.Where(m => m.Admitting || (m.Error is null && !m.LoopDone)).Sum(m => m.Batch);
        var room = joining.MaxImages - running;
        if (room <= 0)
            return;
        var joiners = joining.Take(room);
        if (joiners.Count == 0)
            return;
        if (joiners.Sum(m => m.Batch) > room)
            throw new InvalidOperationException($"The feed gave {joiners.Sum(m => m.Batch)} images for {room} free places.");
        members.AddRange(joiners);
        if (options.AdmitOffLoop && side is not null)
        {
            var admitting = joiners.ToList();
            foreach (var m in admitting)
                m.Admitting = true;
            _admitting.Add((admitting, side.RunAsync(() => AdmitAside(admitting, shape, runOptions, ct))));
            return;
        }

        Admit(joiners, shape, runOptions, ct);
        foreach (var m in joiners.Where(m => m.Error is not null || m.LoopDone))
            Finish(m, leaving, shape, runOptions, joining);
        Hand(leaving, joining);
    }

    /// <summary>Admission on the side thread: whatever fails there fails those joiners only.</summary>
    private void AdmitAside(List<BatchMember> joiners, RunShape shape, RunOptions runOptions, CancellationToken ct)
    {
        try
        {
            Admit(joiners, shape, runOptions, ct);
        }
        catch (Exception ex)
        {
            var error = StoppedOr(ex, runOptions);
            foreach (var m in joiners.Where(m => m.Error is null))
                Fail(m, error);
        }
    }

    /// <summary>A side-thread failure as its members end: a run being stopped terminates its ONNX calls, and they end as the run does.</summary>
    private static Exception StoppedOr(Exception ex, RunOptions runOptions) =>
        runOptions.Terminate ? new OperationCanceledException("The run was stopped.", ex) : ex;

    /// <summary>Joiners whose admission on the side thread is done enter the loop (those that failed, or have no step, leave).</summary>
    private void EnterAdmitted(List<BatchMember> members, List<BatchMember> leaving, RunShape shape, RunOptions runOptions, RunJoining joining)
    {
        if (_admitting.Count == 0)
            return;
        // Which admissions are done is decided once: one finishing on the side thread between entering the done ones and
        // removing them must stay on the list (removed unentered, its members were held "admitting" until the run ended
        // and then failed as stopped: seen once in 2,048 jobs on an H100, 2026-12-07).
        var done = _admitting.FindAll(a => a.Admitted.IsCompleted);
        if (done.Count == 0)
            return;
        _admitting.RemoveAll(done.Contains);
        foreach (var (admitted, _) in done)
        {
            foreach (var m in admitted)
            {
                m.Admitting = false;
                if (m.Error is not null || m.LoopDone)
                    Finish(m, leaving, shape, runOptions, joining);
            }
        }

        Hand(leaving, joining);
    }

    /// <summary>
    /// Waits until every decode and admission posted to the side thread is done (they record their own failures); the
    /// joiners admitted then are still unhanded members of the run, which its end settles.
    /// </summary>
    private void WaitForSideWork()
    {
        var admissions = _admitting.Select(a => a.Admitted).ToList();
        foreach (var m in _admitting.SelectMany(a => a.Members))
            m.Admitting = false;
        _admitting.Clear();
        if (_decoding.Count == 0 && admissions.Count == 0)
            return;
        try
        {
            Task.WaitAll([.. _decoding, .. admissions]);
        }
        catch (AggregateException)
        {
            // (each decode fails its own members; nothing is left to report here)
        }

        _decoding.Clear();
    }
}
