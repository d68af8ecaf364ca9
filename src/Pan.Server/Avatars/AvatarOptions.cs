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

    /// <summary>
    /// How many uploads may be decoded at once on this node (default 2). A decode may take up to 64 MiB of pixels
    /// (<see cref="AvatarImages.MaxDecodedPixels"/>) plus a third of that for resampling, so this bounds the memory avatars can take.
    /// One phone account holds at most one of them (<see cref="AvatarDecodeSlots"/>).
    /// </summary>
    [Range(1, 64, ErrorMessage = "Pan:Avatars:MaxConcurrentDecodes must be 1–64.")]
    public int MaxConcurrentDecodes { get; set; } = 2;

    /// <summary>How long an upload waits for a decode slot before it is refused with RESOURCE_EXHAUSTED (default 5000 ms).</summary>
    [Range(0, 60_000, ErrorMessage = "Pan:Avatars:DecodeWaitMilliseconds must be 0–60000.")]
    public int DecodeWaitMilliseconds { get; set; } = 5000;

    /// <summary>
    /// How many bytes of pictures may wait for a decode slot on this node at once (default 32 MiB; 0–1 GiB; 0: no upload
    /// waits). Each waiting upload holds its picture in memory; one that would take the node past this is refused with
    /// RESOURCE_EXHAUSTED <c>AVATAR_BUSY</c> at once (<see cref="AvatarDecodeSlots"/>).
    /// </summary>
    [Range(0, 1_073_741_824, ErrorMessage = "Pan:Avatars:MaxWaitingBytes must be 0–1073741824.")]
    public int MaxWaitingBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// How long an avatar upload may take from its first byte to its answer before it is cut off (default 120 s; 2–3600;
    /// <see cref="AvatarUploadDeadline"/>): a client trickling its picture cannot hold a request for longer. At the default,
    /// a 5 MiB upload needs ~45 KB/s; keep it above <see cref="DecodeWaitMilliseconds"/>.
    /// </summary>
    [Range(2, 3600, ErrorMessage = "Pan:Avatars:UploadSeconds must be 2–3600.")]
    public int UploadSeconds { get; set; } = 120;

    /// <summary>
    /// How old stored avatar files that no member references must be before <see cref="AvatarJanitor"/> deletes them
    /// (default 60 minutes; 10–10080). Why a grace period: an upload stores its files before it switches the member to
    /// them, so files this young may belong to an upload still under way; it must be longer than any upload takes.
    /// </summary>
    [Range(10, 10_080, ErrorMessage = "Pan:Avatars:OrphanGraceMinutes must be 10–10080.")]
    public int OrphanGraceMinutes { get; set; } = 60;
}
