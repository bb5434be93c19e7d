"""Speech for bulletins: text-to-speech engines, recordings, and ffmpeg transcoding to what phones play."""
