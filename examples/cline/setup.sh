cline auth --provider openai-native --apikey "$GATEWAY_API_KEY" --modelid sonnet --baseurl http://127.0.0.1:4000/v1
