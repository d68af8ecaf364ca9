using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Avatars;

/// <summary><c>Pan:Avatars:*</c>.</summary>
public sealed class AvatarOptions
{
    public const string Section = "Pan:Avatars";

    /// <summary>
    /// Largest accepted upload in bytes (default 5 MiB). gRPC refuses messages over 8 MiB before Pan sees them, so
    /// the ceiling is a little under that.
    /// </summary>
    [Range(1024, 8_000_000, ErrorMessage = "Pan:Avatars:MaxBytes must be 1024–8000000.")]
    public int MaxBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>
    /// Where avatar PNGs are kept: <c>database</c> (default; every node serves every avatar) or <c>filesystem</c>
    /// (<see cref="Folder"/>; several nodes must then share the folder).
    /// </summary>
    [RegularExpression("^(database|filesystem)$", ErrorMessage = "Pan:Avatars:Store must be 'database' or 'filesystem'.")]
    public string Store { get; set; } = "database";

    /// <summary>Folder of the file-system avatar store (default <c>./data/avatars</c>, relative to the working directory).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Pan:Avatars:Folder is required.")]
    public string Folder { get; set; } = "./data/avatars";
}
