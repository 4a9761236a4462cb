import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'accounts' })
export class Account {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) name: string;
  /** Sealed with TOKEN_ENCRYPTION_KEY (SecretBox); signs every webhook of this account. */
  @Column({ name: 'webhook_secret', type: 'text' }) webhookSecret: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
