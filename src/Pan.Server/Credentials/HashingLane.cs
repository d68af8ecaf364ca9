using System.Collections.Concurrent;

namespace Pan.Server.Credentials;

/// <summary>
/// Runs password hashing on threads of its own, a fixed number of them (one per core by default), taking jobs in
/// arrival order. A burst of sign-ins waits its turn here instead of holding memory for every hash at once, and the
/// thread pool that serves every other request never has a worker blocked for the tens of milliseconds a hash takes.
/// </summary>
/// <remarks>
/// A job whose caller gave up (its cancellation token fired) while it waited is dropped without running. Continuations
/// of a finished job run on the thread pool, never on a lane thread, so the lane only ever hashes.
/// </remarks>
public sealed class HashingLane : IDisposable
{
    private readonly BlockingCollection<IJob> queue = [];
    private readonly Thread[] threads;

    /// <param name="threadCount">How many hashes run at once (at least 1).</param>
    public HashingLane(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        threads = new Thread[threadCount];
        for (var i = 0; i < threads.Length; i++)
        {
            threads[i] = new Thread(Drain) { IsBackground = true, Name = $"pan-hash-{i}" };
            threads[i].Start();
        }
    }

    private interface IJob
    {
        void Run();
    }

    /// <summary>How many jobs run at once.</summary>
    public int Width => threads.Length;

    /// <summary>Queues <paramref name="work"/>; the task ends with its result, its exception, or cancellation.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired before the work started.</exception>
    public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        var job = new Job<T>(work, cancellationToken);
        queue.Add(job, CancellationToken.None);
        return job.Task;
    }

    /// <summary>Stops taking jobs; the lane threads finish what is queued (dropping cancelled jobs) and end.</summary>
    public void Dispose()
    {
        queue.CompleteAdding();
        foreach (var thread in threads)
        {
            thread.Join();
        }

        queue.Dispose();
    }

    private void Drain()
    {
        foreach (var job in queue.GetConsumingEnumerable())
        {
            job.Run();
        }
    }

    private sealed class Job<T> : IJob
    {
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Func<T> work;
        private readonly CancellationToken cancellationToken;
        private readonly CancellationTokenRegistration registration;

        public Job(Func<T> work, CancellationToken cancellationToken)
        {
            this.work = work;
            this.cancellationToken = cancellationToken;
            // Why: a caller that gives up while queued is answered at once, not when its turn comes.
            registration = cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource<T>)state!).TrySetCanceled(token), completion);
        }

        public Task<T> Task => completion.Task;

        public void Run()
        {
            registration.Dispose();
            if (cancellationToken.IsCancellationRequested || completion.Task.IsCompleted)
            {
                completion.TrySetCanceled(cancellationToken);
                return;
            }

            try
            {
                completion.TrySetResult(work());
            }
#pragma warning disable CA1031 // Why: any failure of the work belongs to its caller; a lane thread must never die of it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                completion.TrySetException(ex);
            }
        }
    }
}
