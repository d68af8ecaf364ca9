using Microsoft.Extensions.Options;

namespace Pan.Server.Avatars;

/// <summary>
/// Avatars as files <c>{key}-{size}.png</c> in <c>Pan:Avatars:Folder</c>. Several nodes must share the folder (a
/// network volume) or use another <see cref="IAvatarStore"/>. Writes go to a temporary file that is then renamed,
/// so a reader sees the old file, the new file or none, never part of one.
/// </summary>
public sealed class FileSystemAvatarStore(IOptions<AvatarOptions> options) : IAvatarStore
{
    private readonly string folder = Path.GetFullPath(options.Value.Folder);

    public async Task SaveAsync(string key, int size, ReadOnlyMemory<byte> png, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var path = PathOf(key, size);
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

        return Task.CompletedTask;
    }

    private string PathOf(string key, int size) =>
        AvatarKeys.IsKey(key) ? Path.Combine(folder, AvatarKeys.FileName(key, size)) : throw new ArgumentException("Not an avatar key.", nameof(key));
}
