using Pan.Data.Members;
using PanObject = Pan.Atom.Member.Object;

namespace Pan.Server.Members;

/// <summary>Maps a stored member to the seed's <c>pan.atom.member.Object</c>.</summary>
public sealed class ObjectMapper
{
    /// <summary>
    /// <paramref name="self"/> is true only when the caller is the member themself: then the fields marked
    /// "visible only to the member" (phone, phone_id) are filled; otherwise they stay empty.
    /// </summary>
    public PanObject ToObject(Member member, bool self) => throw new NotImplementedException("tokens/read-side helper");
}
