namespace Pan.Server.Avatars;

/// <summary>Where avatar PNGs live, by key and size. Keys are checked by <see cref="AvatarKeys.IsKey"/> before they get here.</summary>
public interface IAvatarStore
{
    /// <summary>Stores (or replaces) one size of an avatar; readers never see a half-written file.</summary>
    Task SaveAsync(string key, int size, ReadOnlyMemory<byte> png, CancellationToken cancellationToken);

    /// <summary>The stored PNG, or null when there is none.</summary>
    Task<Stream?> OpenReadAsync(string key, int size, CancellationToken cancellationToken);

    /// <summary>Removes every size of an avatar; a missing file is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
}
