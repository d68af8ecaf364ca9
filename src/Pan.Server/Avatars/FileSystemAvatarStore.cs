using Microsoft.Extensions.Options;

namespace Pan.Server.Avatars;

/// <summary>
/// Avatars as files <c>{key}-{size}.png</c> in <c>Pan:Avatars:Folder</c>. Several nodes must share the folder (a
/// network volume) or use another <see cref="IAvatarStore"/>. Writes go to a temporary file that is then renamed,
/// so a reader sees the old file, the new file or none, never part of one. A pending key has a marker file
/// <c>pending/{key}</c> holding when it became pending (Unix milliseconds by the injected clock), written before its
/// first PNG and deleted last, so a node killed at any point leaves the marker for <see cref="AvatarJanitor"/>; a marker
/// taken by a claim or a delete (renamed <c>{key}.{guid}.taken</c>) whose node was killed before it finished is put back
/// by a later <see cref="PendingAsync"/>, so the janitor finishes the job.
/// </summary>
public sealed class FileSystemAvatarStore(IOptions<AvatarOptions> options, TimeProvider clock, ILogger<FileSystemAvatarStore> logger) : IAvatarStore
{
    private readonly string folder = Path.GetFullPath(options.Value.Folder);

    private string PendingFolder => Path.Combine(folder, "pending");

    public async Task SaveAsync(string key, int size, ReadOnlyMemory<byte> png, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var path = PathOf(key, size);
        var marker = MarkerOf(key);
        if (!File.Exists(marker))
        {
            Directory.CreateDirectory(PendingFolder);
            await File.WriteAllTextAsync(marker, clock.GetUtcNow().ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        }

        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            await File.WriteAllBytesAsync(temporary, png, cancellationToken);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public Task<Stream?> OpenReadAsync(string key, int size, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(PathOf(key, size), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 16 * 1024, useAsync: true));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(folder))
        {
            return Task.CompletedTask;
        }

        foreach (var size in AvatarKeys.Sizes)
        {
            File.Delete(PathOf(key, size));
        }

        DeleteMarker(key);
        return Task.CompletedTask;
    }

    public Task<bool> ClaimAsync(string key, CancellationToken cancellationToken)
    {
        if (!TakeMarker(key, out var taken))
        {
            return Task.FromResult(false);
        }

        File.Delete(taken);
        return Task.FromResult(true);
    }

    public Task<bool> DeletePendingAsync(string key, CancellationToken cancellationToken)
    {
        if (!TakeMarker(key, out var taken))
        {
            return Task.FromResult(false);
        }

        foreach (var size in AvatarKeys.Sizes)
        {
            File.Delete(PathOf(key, size));
        }

        File.Delete(taken);
        return Task.FromResult(true);
    }

    /// <summary>Writes the key's marker if it has files and none; <paramref name="db"/> is not used (a folder has no transaction).</summary>
    public async Task ReleaseAsync(Pan.Data.PanDbContext db, string key, CancellationToken cancellationToken)
    {
        var marker = MarkerOf(key);
        if (File.Exists(marker) || !AvatarKeys.Sizes.Any(size => File.Exists(PathOf(key, size))))
        {
            return;
        }

        Directory.CreateDirectory(PendingFolder);
        await File.WriteAllTextAsync(marker, clock.GetUtcNow().ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
    }

    /// <summary>
    /// Renames the key's marker out of the way, so of a claim and a janitor's delete racing for it exactly one gets it
    /// (a rename is atomic); false when there was none (claimed before, or taken by the other).
    /// </summary>
    private bool TakeMarker(string key, out string taken)
    {
        var marker = MarkerOf(key);
        taken = $"{marker}.{Guid.NewGuid():N}.taken";
        try
        {
            File.Move(marker, taken);
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<string>> PendingAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        if (!Directory.Exists(PendingFolder))
        {
            return keys;
        }

        var cutoff = before.ToUnixTimeMilliseconds();
        foreach (var marker in Directory.EnumerateFiles(PendingFolder))
        {
            if (keys.Count == limit)
            {
                break;
            }

            var name = Path.GetFileName(marker);
            var key = TakenKey(name) ?? name;
            if (!AvatarKeys.IsKey(key) || keys.Contains(key))
            {
                continue;
            }

            try
            {
                // Why the file's own time as a fallback: a node killed while writing the marker leaves it empty.
                var since = long.TryParse(await File.ReadAllTextAsync(marker, cancellationToken), System.Globalization.CultureInfo.InvariantCulture, out var written)
                    ? written
                    : new DateTimeOffset(File.GetLastWriteTimeUtc(marker)).ToUnixTimeMilliseconds();
                if (since >= cutoff)
                {
                    continue;
                }

                if (name != key)
                {
                    // Why put back: its claim or delete ended with its node; as a marker again, the janitor claims the
                    // key if a member references it, and deletes its files otherwise. A marker there already does that.
                    try
                    {
                        File.Move(marker, MarkerOf(key));
                    }
                    catch (IOException) when (File.Exists(MarkerOf(key)))
                    {
                        File.Delete(marker);
                    }
                }

                keys.Add(key);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                // Claimed or deleted meanwhile.
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Why not the exception: its message holds the folder's path; the key says which marker it is.
                logger.LogWarning("Could not read the pending marker of avatar {AvatarKey} ({Error}); the sweep goes on without it", key, ex.GetType().Name);
            }
        }

        return keys;
    }

    /// <summary>The key of a taken marker's name (<c>{key}.{guid}.taken</c>, <see cref="TakeMarker"/>), else null.</summary>
    private static string? TakenKey(string name) =>
        name.Length == AvatarKeys.Length + 1 + 32 + ".taken".Length && name[AvatarKeys.Length] == '.' && name.EndsWith(".taken", StringComparison.Ordinal)
            ? name[..AvatarKeys.Length]
            : null;

    private void DeleteMarker(string key)
    {
        if (Directory.Exists(PendingFolder))
        {
            File.Delete(MarkerOf(key));
        }
    }

    private string MarkerOf(string key) =>
        AvatarKeys.IsKey(key) ? Path.Combine(PendingFolder, key) : throw new ArgumentException("Not an avatar key.", nameof(key));

    private string PathOf(string key, int size) =>
        AvatarKeys.IsKey(key) ? Path.Combine(folder, AvatarKeys.FileName(key, size)) : throw new ArgumentException("Not an avatar key.", nameof(key));
}
