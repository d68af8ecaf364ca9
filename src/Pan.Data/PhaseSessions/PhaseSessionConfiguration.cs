using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Pan.Data.PhaseSessions;

internal sealed class PhaseSessionConfiguration : IEntityTypeConfiguration<PhaseSession>
{
    public void Configure(EntityTypeBuilder<PhaseSession> builder)
    {
        builder.ToTable("phase_sessions");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(s => s.TokenHash).HasColumnName("token_hash").HasMaxLength(32);
        builder.Property(s => s.Purpose).HasColumnName("purpose").HasMaxLength(32);
        builder.Property(s => s.PhoneE164).HasColumnName("phone_e164").HasMaxLength(20);
        builder.Property(s => s.PhoneCountryCode).HasColumnName("phone_country_code");
        builder.Property(s => s.Uid).HasColumnName("uid");
        builder.Property(s => s.Phase).HasColumnName("phase");
        builder.Property(s => s.CaptchaRequired).HasColumnName("captcha_required");
        builder.Property(s => s.CaptchaPassed).HasColumnName("captcha_passed");
        builder.Property(s => s.CodeHash).HasColumnName("code_hash").HasMaxLength(32);
        builder.Property(s => s.CodeSalt).HasColumnName("code_salt").HasMaxLength(16);
        builder.Property(s => s.CodeSentAt).HasColumnName("code_sent_at");
        builder.Property(s => s.CodeExpires).HasColumnName("code_expires");
        builder.Property(s => s.CodeAttempts).HasColumnName("code_attempts");
        builder.Property(s => s.CodesSent).HasColumnName("codes_sent");
        builder.Property(s => s.CodeVerifiedAt).HasColumnName("code_verified_at");
        builder.Property(s => s.CompletedAt).HasColumnName("completed_at");
        builder.Property(s => s.Created).HasColumnName("created");
        builder.Property(s => s.Expires).HasColumnName("expires");
        builder.Property(s => s.ClientIp).HasColumnName("client_ip").HasMaxLength(64);

        builder.HasIndex(s => s.TokenHash).IsUnique().HasDatabaseName("ux_phase_sessions_token_hash");
        builder.HasIndex(s => s.Expires).HasDatabaseName("ix_phase_sessions_expires");
    }
}
