"""The GAN game: its settings, the loop, resumable checkpoints, tf.distribute, the stages' records.

Modules: ``checkpoints``, ``distribution``, ``train_config``, ``training``, ``training_records``.
"""
