using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Pan.Data.Members;

namespace Pan.Data.Credentials;

internal sealed class MemberCredentialConfiguration : IEntityTypeConfiguration<MemberCredential>
{
    /// <summary>Longest stored hash string (Argon2id encodings are ~100 characters; legacy ones are shorter).</summary>
    public const int HashLength = 256;

    public void Configure(EntityTypeBuilder<MemberCredential> builder)
    {
        builder.ToTable("member_credentials");
        builder.HasKey(c => c.Uid);
        builder.Property(c => c.Uid).HasColumnName("uid").ValueGeneratedNever();
        builder.Property(c => c.PasswordHash).HasColumnName("password_hash").HasMaxLength(HashLength);
        builder.Property(c => c.PasswordChanged).HasColumnName("password_changed");
        builder.Property(c => c.SecurityQuestion).HasColumnName("security_question").HasMaxLength(256);
        builder.Property(c => c.SecurityAnswerHash).HasColumnName("security_answer_hash").HasMaxLength(HashLength);
        builder.Property(c => c.SecurityQuestionChanged).HasColumnName("security_question_changed");

        // Why: a member's credentials go with the member row; a tombstoned member keeps its row (deletion clears it).
        builder.HasOne<Member>().WithOne().HasForeignKey<MemberCredential>(c => c.Uid).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class LoginFailureConfiguration : IEntityTypeConfiguration<LoginFailure>
{
    public void Configure(EntityTypeBuilder<LoginFailure> builder)
    {
        builder.ToTable("login_failures");
        builder.HasKey(f => f.Uid);
        builder.Property(f => f.Uid).HasColumnName("uid").ValueGeneratedNever();
        builder.Property(f => f.ConsecutiveFailures).HasColumnName("consecutive_failures");
        builder.Property(f => f.LastFailure).HasColumnName("last_failure");
        builder.Property(f => f.LockedUntil).HasColumnName("locked_until");
        builder.HasOne<Member>().WithOne().HasForeignKey<LoginFailure>(f => f.Uid).OnDelete(DeleteBehavior.Cascade);
    }
}
