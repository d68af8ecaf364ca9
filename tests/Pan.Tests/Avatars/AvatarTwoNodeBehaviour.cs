using System.Net;
using Google.Protobuf;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using SkiaSharp;

namespace Pan.Tests.Avatars;

/// <summary>With the default (database) avatar store, an avatar uploaded through one node is served by another, and removed everywhere.</summary>
public abstract class AvatarTwoNodeBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    [Fact]
    public async Task AnAvatarUploadedOnOneNode_IsServedByAnother()
    {
        // Why: the other node gets a folder of its own, so only a store shared through the database can serve it.
        var folder = Directory.CreateTempSubdirectory("pan-avatars-").FullName;
        await using var other = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Avatars:Folder"] = folder });
        var member = await TestMembers.CreateAsync(fixture.Server);
        var token = await TestMembers.AccessTokenAsync(fixture.Server, member);
        var client = new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);

        var url = new Uri((await client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(320, 200)) })).Avatar);

        using var response = await other.Http.GetAsync(url.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var served = SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((280, 280), (served.Width, served.Height));

        await client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Png(300, 300)) });
        using var replaced = await other.Http.GetAsync(url.AbsolutePath);
        Assert.Equal(HttpStatusCode.NotFound, replaced.StatusCode);
    }

    private static byte[] Png(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor((byte)Random.Shared.Next(256), 128, 64));
        }

        using var image = SKImage.FromBitmap(bitmap);
        return image.Encode(SKEncodedImageFormat.Png, 100).ToArray();
    }
}

public sealed class AvatarTwoNodeBehaviour_Sqlite(SqliteServerFixture f) : AvatarTwoNodeBehaviour<SqliteServerFixture>(f);

public sealed class AvatarTwoNodeBehaviour_Postgres(PostgresServerFixture f) : AvatarTwoNodeBehaviour<PostgresServerFixture>(f);
