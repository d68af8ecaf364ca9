using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;

namespace Pan.Server.Avatars;

/// <summary>
/// Every hour, deletes the files of uploads that never switched their member to them: an upload stores its files
/// (pending, <see cref="IAvatarStore"/>) before the switch and claims them after it, so files still pending
/// <c>Pan:Avatars:OrphanGraceMinutes</c> after they were stored belong to an upload whose node was killed in between.
/// Each such key is checked against the members once more (by the index on <c>members.avatar_key</c>): a key a member
/// references (a node killed between the switch and the claim) is claimed, any other is deleted.
/// </summary>
/// <remarks>
/// Why this is safe with several nodes: each node may sweep; deleting or claiming a key twice changes nothing. Why it
/// is safe against an upload under way: an upload switches within seconds of storing its files, far inside the grace
/// period (at least 10 minutes). One that took longer (a stalled node, a clock ahead on the janitor's node) may switch
/// after the janitor found its key unreferenced: the janitor deletes only files still pending, and the upload's claim
/// after its switch either comes first (the files stay) or finds them gone, and then the upload stores the picture
/// again under a new key and switches to that (AvatarService).
/// </remarks>
public sealed class AvatarJanitor(IServiceScopeFactory scopes, IAvatarStore store, IOptions<AvatarOptions> options, TimeProvider clock, ILogger<AvatarJanitor> logger)
    : Data.HourlyJanitor(scopes, clock, logger)
{
    /// <summary>Keys read per batch; a sweep handles at most <see cref="MaxBatches"/> batches, the rest waits for the next hour.</summary>
    public const int BatchSize = 500, MaxBatches = 20;

    protected override async Task SweepAsync(PanDbContext db, CancellationToken cancellationToken)
    {
        var before = Clock.GetUtcNow() - TimeSpan.FromMinutes(options.Value.OrphanGraceMinutes);
        var (deleted, claimed) = (0, 0);
        for (var batch = 0; batch < MaxBatches; batch++)
        {
            var keys = await store.PendingAsync(before, BatchSize, cancellationToken);
            foreach (var key in keys)
            {
                try
                {
                    if (await db.Members.AnyAsync(m => m.AvatarKey == key, cancellationToken))
                    {
                        await store.ClaimAsync(key, cancellationToken);
                        // Why look again: a change that let the key go after the look above (the member's deletion, a
                        // newer upload) found the files pending and marked nothing; if its delete failed, the claim
                        // took them out of pending referenced by nobody. Such a key is never anyone's again.
                        if (await db.Members.AnyAsync(m => m.AvatarKey == key, cancellationToken))
                        {
                            claimed++;
                            continue;
                        }

                        await store.ReleaseAsync(db, key, cancellationToken);
                    }

                    if (await store.DeletePendingAsync(key, cancellationToken))
                    {
                        deleted++;
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Why go on: one key's files the store cannot touch must not keep the others' for another hour.
                    logger.LogWarning("Could not sweep the files of avatar {AvatarKey} ({Error}); the sweep goes on", key, ex.GetType().Name);
                }
            }

            if (keys.Count < BatchSize)
            {
                break;
            }
        }

        if (deleted + claimed > 0)
        {
            logger.LogInformation("Deleted the files of {Deleted} avatar upload(s) no member took; claimed {Claimed} a member had taken", deleted, claimed);
        }
    }
}
