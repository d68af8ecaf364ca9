using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Server.Errors;

namespace Pan.Server.Avatars;

/// <summary>
/// Sets and removes members' avatars. An upload is checked by content and size, re-encoded to square PNGs
/// (<see cref="AvatarKeys.Sizes"/>; decoded only while it holds one of the node's <see cref="AvatarDecodeSlots"/>), stored under a key of its own (<see cref="AvatarKeys"/>), and then Member.AvatarKey is switched to
/// it with one conditional update (retried when a concurrent change got there first). The previous avatar's files are
/// deleted once nothing refers to them any more.
/// </summary>
public sealed class AvatarService(PanDbContext db, IAvatarStore store, AvatarUrls urls, AvatarDecodeSlots slots, IOptions<AvatarOptions> options, TimeProvider clock, ILogger<AvatarService> logger)
{
    private const int Attempts = 5;

    /// <summary>
    /// Checks <paramref name="image"/> without touching the member: empty, over <c>Pan:Avatars:MaxBytes</c>, not a
    /// JPEG, PNG, WebP or GIF by its first bytes, or a JPEG of over <see cref="AvatarImages.MaxJpegScans"/> scans:
    /// INVALID_ARGUMENT naming <c>avatar</c>. Cheap (one pass over the bytes, no decoding); call it first.
    /// </summary>
    public void CheckUpload(ReadOnlySpan<byte> image)
    {
        if (image.Length == 0)
        {
            throw PanError.InvalidArgument("avatar", "is required");
        }

        if (image.Length > options.Value.MaxBytes)
        {
            throw PanError.InvalidArgument("avatar", $"must be at most {options.Value.MaxBytes} bytes");
        }

        if (AvatarImages.Sniff(image) == ImageFormat.Unknown)
        {
            throw PanError.InvalidArgument("avatar", "must be a JPEG, PNG, WebP or GIF image");
        }

        if (AvatarImages.Sniff(image) == ImageFormat.Jpeg && AvatarImages.JpegScans(image) > AvatarImages.MaxJpegScans)
        {
            throw PanError.InvalidArgument("avatar", $"must be a JPEG of at most {AvatarImages.MaxJpegScans} scans");
        }
    }

    /// <summary>
    /// Replaces the live member's avatar and returns its URL; null when the member is gone (deleted meanwhile).
    /// <paramref name="accountId"/> is the member's phone account, which decodes one upload at a time on this node
    /// (<see cref="AvatarDecodeSlots"/>). The picture is read where it lies (the request's own bytes, not a copy), so a
    /// waiting upload holds it once.
    /// </summary>
    public async Task<string?> UpdateAsync(long uid, long accountId, ReadOnlyMemory<byte> image, CancellationToken cancellationToken)
    {
        CheckUpload(image.Span);
        Dictionary<int, byte[]>? rendered;
        using (await slots.EnterAsync(accountId, image.Length, cancellationToken))
        {
            rendered = AvatarImages.Render(image.Span, AvatarKeys.Sizes);
        }

        if (rendered is null)
        {
            throw PanError.InvalidArgument("avatar",
                $"is not a readable image of at most {AvatarImages.MaxPixels} pixels that decodes to at most {AvatarImages.MaxDecodedPixels} (PNG and GIF are decoded at full size)");
        }

        // Why a loop: when the avatar janitor took this upload's files before its switch (the upload stalled past
        // Pan:Avatars:OrphanGraceMinutes), the member now points at a key without files; the picture is stored again
        // under a new key, and the member switched to that — only while the member still points at the key this upload
        // switched to. A change since (a newer upload, which deleted this one's files as the avatar it replaced; a
        // removal) is newer than this upload and wins: the upload stops and answers what the member shows now.
        string? replaced = null;
        var switched = false;
        string? lastKey = null;
        string key;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                key = AvatarKeys.New();
                Previous? previous = null;
                try
                {
                    foreach (var (size, png) in rendered)
                    {
                        await store.SaveAsync(key, size, png, cancellationToken);
                    }

                    previous = await SwitchAsync(uid, key, cancellationToken, onlyFrom: switched ? new Expected(lastKey) : null);
                }
                finally
                {
                    if (previous is null or { Overtaken: true })
                    {
                        // The member is gone, a newer change overtook this upload, the switch kept losing (ABORTED), the
                        // call was cancelled or a write failed.
                        await DiscardAsync(uid, key);
                    }
                }

                if (previous is null)
                {
                    return null;
                }

                if (previous.Overtaken)
                {
                    logger.LogInformation("The avatar upload of member {Uid} was overtaken by a newer change before its files were stored again; the member keeps {AvatarKey}", uid, previous.Key);
                    return urls.For(previous.Key);
                }

                if (!switched)
                {
                    (replaced, switched) = (previous.Key, true);
                }

                if (await ClaimAsync(key) || attempt == Attempts)
                {
                    await DeleteIfLetGoAsync(key);
                    break;
                }

                logger.LogWarning("The files of avatar {AvatarKey} were deleted before its upload claimed them; storing them again unless member {Uid} changed since", key, uid);
                lastKey = key;
            }
        }
        finally
        {
            if (switched)
            {
                // The member's avatar before this upload: nothing points at it once the first switch has committed.
                await DeleteFilesAsync(replaced, CancellationToken.None);
            }
        }

        logger.LogInformation("Member {Uid} set avatar {AvatarKey}", uid, key);
        return urls.For(key);
    }

    /// <summary>Restores the default avatar of a member (live or not) and deletes the stored files; false when there is no such member.</summary>
    public async Task<bool> RemoveAsync(long uid, CancellationToken cancellationToken)
    {
        var previous = await SwitchAsync(uid, null, cancellationToken, liveOnly: false);
        if (previous is null)
        {
            return false;
        }

        await DeleteFilesAsync(previous.Key, cancellationToken);
        logger.LogInformation("Removed the avatar of member {Uid}", uid);
        return true;
    }

    /// <summary>
    /// Marks the files of <paramref name="key"/> pending in the caller's transaction (a legacy URL or null is ignored),
    /// for a change that lets the member's avatar go: if the delete after the commit never runs (the node dies) or
    /// fails, the janitor finds the files pending and unreferenced after the grace. A change that rolls back leaves the
    /// mark on files a member still refers to, which the janitor leaves alone. A folder that cannot take the mark is
    /// logged and does not stop the change (a member's deletion must not wait on its picture); a database error does,
    /// as the change's own transaction is failing.
    /// </summary>
    public async Task ReleaseAsync(string? key, CancellationToken cancellationToken)
    {
        if (!AvatarKeys.IsKey(key))
        {
            return;
        }

        try
        {
            await store.ReleaseAsync(db, key!, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not mark the files of avatar {AvatarKey} pending; if their delete fails too they stay", key);
        }
    }

    /// <summary>
    /// Deletes the files of a Pan avatar key no member refers to any more (a legacy URL or null is ignored), marking them
    /// pending first (<see cref="IAvatarStore.ReleaseAsync"/>). Best effort: a failure is logged, not thrown, and the
    /// janitor deletes the files after the grace.
    /// </summary>
    public async Task DeleteFilesAsync(string? key, CancellationToken cancellationToken)
    {
        if (!AvatarKeys.IsKey(key))
        {
            return;
        }

        try
        {
            // Why marked again (the change marked them in its transaction, see ReleaseAsync): a no-op then, and a mark
            // for a caller that did not.
            await store.ReleaseAsync(db, key!, cancellationToken);
            await store.DeleteAsync(key!, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException || ErrorInterceptor.IsOutage(ex))
        {
            logger.LogWarning(ex, "Could not delete the files of avatar {AvatarKey}; the avatar janitor will once they are older than the grace", key);
        }
    }

    /// <summary>
    /// Deletes the files of an upload that did not become the member's avatar, unless the member points at them after
    /// all (a switch whose commit the cancellation raced). Runs whatever the caller's cancellation; a failure is logged
    /// and leaves the files.
    /// </summary>
    private async Task DiscardAsync(long uid, string key)
    {
        try
        {
            if (await db.Members.AsNoTracking().AnyAsync(m => m.Uid == uid && m.AvatarKey == key, CancellationToken.None))
            {
                return;
            }

            await store.DeleteAsync(key, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException || ErrorInterceptor.IsOutage(ex))
        {
            logger.LogWarning(ex, "Could not delete the files of avatar {AvatarKey}, which no member took", key);
        }
    }

    /// <summary>
    /// Marks the files of the key the member now points at as taken, so <see cref="AvatarJanitor"/> leaves them alone;
    /// false when the janitor deleted them first (they were no longer pending). Runs whatever the caller's cancellation
    /// (the switch has committed); a failure is logged and counts as taken: the janitor finds the key referenced and
    /// claims it itself.
    /// </summary>
    private async Task<bool> ClaimAsync(string key)
    {
        try
        {
            return await store.ClaimAsync(key, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException || ErrorInterceptor.IsOutage(ex))
        {
            logger.LogWarning(ex, "Could not mark the files of avatar {AvatarKey} as taken; the avatar janitor will", key);
            return true;
        }
    }

    /// <summary>
    /// Deletes the files of the key the upload just claimed when no member refers to it any more: a change that let it go
    /// between the switch and the claim (the member's deletion, a newer upload) found the files still pending, so marked
    /// nothing, and if its delete after the commit failed, the claim took them out of pending referenced by nobody, where
    /// the janitor would never find them. A key no member refers to never becomes anyone's avatar again, so this is safe.
    /// Runs whatever the caller's cancellation; a failure is logged.
    /// </summary>
    private async Task DeleteIfLetGoAsync(string key)
    {
        try
        {
            if (await db.Members.AsNoTracking().AnyAsync(m => m.AvatarKey == key, CancellationToken.None))
            {
                return;
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException || ErrorInterceptor.IsOutage(ex))
        {
            logger.LogWarning(ex, "Could not tell whether a member still refers to avatar {AvatarKey}", key);
            return;
        }

        logger.LogInformation("Avatar {AvatarKey} was let go before its upload claimed it; deleting its files", key);
        await DeleteFilesAsync(key, CancellationToken.None);
    }

    /// <summary>
    /// Sets AvatarKey; returns the previous one, or null when the member does not exist (or is deleted, with
    /// <paramref name="liveOnly"/>). The previous key's files are marked pending in the same transaction, so they are
    /// the janitor's from the moment no member refers to them, whatever becomes of their delete after the commit.
    /// With <paramref name="onlyFrom"/>, switches only a member that still points at that key: otherwise nothing is
    /// changed and the result is the member's key, <see cref="Previous.Overtaken"/>.
    /// </summary>
    private async Task<Previous?> SwitchAsync(long uid, string? key, CancellationToken cancellationToken, bool liveOnly = true, Expected? onlyFrom = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var current = await db.Members.AsNoTracking()
                .Where(m => m.Uid == uid && (!liveOnly || m.Deleted == null))
                .Select(m => new { m.AvatarKey, m.Version })
                .FirstOrDefaultAsync(cancellationToken);
            if (current is null)
            {
                return null;
            }

            if (onlyFrom is not null && current.AvatarKey != onlyFrom.Key)
            {
                return new Previous(current.AvatarKey, Overtaken: true);
            }

            var now = clock.GetUtcNow();
            var changed = await db.Members
                .Where(m => m.Uid == uid && m.Version == current.Version && (!liveOnly || m.Deleted == null))
                .ExecuteUpdateAsync(u => u
                    .SetProperty(m => m.AvatarKey, key)
                    .SetProperty(m => m.Modified, now)
                    .SetProperty(m => m.Version, m => m.Version + 1), cancellationToken);
            if (changed == 1)
            {
                await ReleaseAsync(current.AvatarKey, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new Previous(current.AvatarKey);
            }

            await transaction.RollbackAsync(cancellationToken);

            if (attempt == Attempts)
            {
                throw PanError.Plain(Grpc.Core.StatusCode.Aborted, "CONCURRENT_CHANGE", "The member changed concurrently; try again.");
            }
        }
    }

    private sealed record Previous(string? Key, bool Overtaken = false);

    private sealed record Expected(string? Key);
}
