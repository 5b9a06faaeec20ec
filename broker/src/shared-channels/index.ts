export { ConsumerChannels, type ConsumerChannelsOptions } from './consumer-channels.js';
export { SharedSubscription, type SharedSubscriptionOptions } from './shared-subscription.js';
