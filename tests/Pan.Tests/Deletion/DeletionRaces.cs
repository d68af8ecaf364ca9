using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using PhoneFlow = Pan.Tests.PhoneFlows.Phones;

namespace Pan.Tests.Deletion;

/// <summary>An operation that stores a token for a member, run against that member's deletion in a chosen order.</summary>
public static class DeletionRaces
{
    /// <summary>
    /// Runs <paramref name="call"/>, which stores a verify token for member <paramref name="uid"/>, and the member's
    /// deletion so that on PostgreSQL the deletion runs while the call is held just before it stores the token (a
    /// <see cref="WriteGate"/> on verify_tokens); then both go on, the call first, and the deletion commits. Returns the
    /// call's status. A call that holds the member first makes the deletion wait for it, so the deletion's erasers find
    /// its token; one that does not stores its token after the erasers ran. SQLite runs one writer at a time: there the
    /// call ends before the deletion starts.
    /// </summary>
    public static async Task<StatusCode> DeletionBeforeTheVerifyTokenIsStoredAsync(PanServer server, ITestDatabase database, long uid, Func<Task> call)
    {
        Task<StatusCode> running;
        Task<UncommittedDeletion>? deleting = null;
        await using (var gate = await WriteGate.CloseAsync(server, database, "verify_tokens", TriggeredWrite.Insert, FailureTriggers.UidIs(TriggeredWrite.Insert, uid)))
        {
            running = Task.Run(() => PhoneFlow.StatusOf(call));
            if (gate.Holds)
            {
                Assert.True(await LockWaits.UntilAsync(database, 1, running), "the call did not reach its token");
                deleting = Task.Run(() => UncommittedDeletion.StartAsync(server, database, uid));
                // The deletion either runs to its end (nothing of the call's holds it) or waits for the call.
                await LockWaits.UntilAsync(database, 2, deleting);
                await gate.OpenAsync();
            }

            var status = await running;
            await using (var deletion = await (deleting ?? UncommittedDeletion.StartAsync(server, database, uid)))
            {
                await deletion.CommitAsync();
            }

            return status;
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/>, which inserts a row of member <paramref name="uid"/> into <paramref name="table"/> (a
    /// <c>uid</c> column), and the member's deletion so that on PostgreSQL the deletion runs while the call is held just
    /// before that insert (a <see cref="WriteGate"/>); then the call goes on, and the deletion commits once the call has
    /// ended or waits for it (an insert whose foreign key names the member waits for the deletion's update of the member
    /// row). A call that holds the member first makes the deletion wait for it, so the deletion's erasers find its row;
    /// one that does not stores its row after the erasers ran. SQLite runs one writer at a time: there the call ends
    /// before the deletion starts. Returns the call's status. <paramref name="write"/> holds the call before another
    /// kind of write to a row of the member (an update: before the call changes a row the deletion may erase first).
    /// </summary>
    public static async Task<StatusCode> DeletionWhileTheRowIsHeldAsync(
        PanServer server, ITestDatabase database, long uid, string table, Func<Task> call, TriggeredWrite write = TriggeredWrite.Insert)
    {
        await using var gate = await WriteGate.CloseAsync(server, database, table, write, FailureTriggers.UidIs(write, uid));
        var running = Task.Run(() => PhoneFlow.StatusOf(call));
        if (!gate.Holds)
        {
            var ended = await running;
            await using (var deletion = await UncommittedDeletion.StartAsync(server, database, uid))
            {
                await deletion.CommitAsync();
            }

            return ended;
        }

        Assert.True(await LockWaits.UntilAsync(database, 1, running), "the call did not reach its row");
        var deleting = Task.Run(() => UncommittedDeletion.StartAsync(server, database, uid));
        // The deletion either runs to its end (nothing of the call's holds it) or waits for the call.
        await LockWaits.UntilAsync(database, 2, deleting);
        await gate.OpenAsync();
        // The call ends, or waits for the uncommitted deletion (or the deletion waits for it): the deletion may commit now.
        await LockWaits.UntilAsync(database, 1, running);
        await using (var deletion = await deleting)
        {
            await deletion.CommitAsync();
        }

        return await running;
    }

    /// <summary>The verify tokens of member <paramref name="uid"/> (also auth_reset_tokens), in rows.</summary>
    public static Task<int> VerifyTokensAsync(PanServer server, long uid) =>
        TestMembers.WithDbAsync(server, db => db.Set<StoredVerifyToken>().CountAsync(t => t.Uid == uid));
}
