namespace Pan.Server.Avatars;

/// <summary>
/// Where avatar PNGs live, by key and size. Keys are checked by <see cref="AvatarKeys.IsKey"/> before they get here.
/// A key's files are pending from their first save until <see cref="ClaimAsync"/>: an upload claims them once its member
/// points at the key, and <see cref="AvatarJanitor"/> deletes the pending files of an upload that never got that far.
/// </summary>
public interface IAvatarStore
{
    /// <summary>Stores (or replaces) one size of an avatar, pending; readers never see a half-written file.</summary>
    Task SaveAsync(string key, int size, ReadOnlyMemory<byte> png, CancellationToken cancellationToken);

    /// <summary>The stored PNG, or null when there is none.</summary>
    Task<Stream?> OpenReadAsync(string key, int size, CancellationToken cancellationToken);

    /// <summary>Removes every size of an avatar; a missing file is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Marks a key's files as referenced by a member (no longer pending). True when this call took them out of pending;
    /// false when none were pending (claimed before, or deleted by <see cref="DeletePendingAsync"/>). Atomic with
    /// <see cref="DeletePendingAsync"/>: of a claim and a janitor's delete of the same key, exactly one wins.
    /// </summary>
    Task<bool> ClaimAsync(string key, CancellationToken cancellationToken);

    /// <summary>Removes every size of an avatar if its files are still pending (never once they are claimed); true when it did.</summary>
    Task<bool> DeletePendingAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Marks a key's files pending again, from now (nothing for files already pending, or gone): no member refers to
    /// them any more and they are about to be deleted, so if that delete never happens (the store failing, the node
    /// killed) <see cref="AvatarJanitor"/> deletes them after the grace; the delete itself clears the mark. With the
    /// database store the mark is written through <paramref name="db"/>, so it commits with the caller's transaction.
    /// </summary>
    Task ReleaseAsync(Pan.Data.PanDbContext db, string key, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> keys whose files have been pending since before <paramref name="before"/>.</summary>
    Task<IReadOnlyList<string>> PendingAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken);
}
